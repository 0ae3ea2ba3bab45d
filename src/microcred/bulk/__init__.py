"""Bulk awarding from the spreadsheets an office keeps: reading CSV and XLSX, mapping columns, the dry run, results and templates (service.py holds the use cases)."""
