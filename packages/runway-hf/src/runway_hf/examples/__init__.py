"""Examples that run offline end to end; see :mod:`runway_hf.examples.text_classification`."""
