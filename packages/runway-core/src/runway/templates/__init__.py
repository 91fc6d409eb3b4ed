"""Files that ``runway init`` and ``runway experiment`` start from (package data)."""
