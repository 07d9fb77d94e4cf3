"""Who can reach help? Road travel time to women's crisis services in Tajikistan (library; no Streamlit)."""
