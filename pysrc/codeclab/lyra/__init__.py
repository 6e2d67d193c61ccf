"""codeclab.lyra"""
