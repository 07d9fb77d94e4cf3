"""Streamlit glue shared by app.py and pages/."""
