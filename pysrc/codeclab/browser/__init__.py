"""codeclab.browser"""
