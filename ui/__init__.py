"""The Streamlit app: ``streamlit run ui/app.py``, or ``python -m ui`` (telemetry off)."""
