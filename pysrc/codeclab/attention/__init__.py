"""codeclab.attention"""
