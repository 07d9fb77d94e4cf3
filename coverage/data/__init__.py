"""The data step and the tables it makes.

``sources`` assembles public sources (a mirror folder or downloads) into
``data/boundaries``, ``data/communities`` and ``data/health``; ``boundaries``,
``communities`` and ``services`` read, build and validate those tables (GeoDataFrames in
EPSG:4326); ``tables`` reads user-supplied files. Nothing here knows about roads.
"""
