"""The private services registry (GeoPackage or PostGIS) and staff sign-in.

Holds exact shelter points and addresses: nothing read from here goes to a public
output without passing :mod:`coverage.views.privacy`.
"""
