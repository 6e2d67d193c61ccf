"""codeclab.basis"""
