"""The board's dashboard (Streamlit) over the marts: filters for city, period and platform kept in
the URL, six pages, read through ``queries`` and ``status`` only, cached by the marts' version."""
