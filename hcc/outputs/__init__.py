"""What users take away: tables, figures, static export, HTML/PDF report and deck, methods text, reopening a report."""
