"""codeclab.jxl"""
