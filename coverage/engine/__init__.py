"""The routing engine: road networks (OSM files or the default network) as CSR
matrices of minutes, and travel times over them.

The engine knows points, minutes and metres, never districts or thresholds.
"""
