"""Attachment fetch and text extraction (issue: attachments) — not built yet; this is its room.

What goes here: fetching each `connectors.base.Attachment` through the shared
polite fetcher (`connectors.http`), naming it from Content-Disposition, and
extracting text from PDF/DOCX/XLSX. It sits beside the pipeline and hands
what it extracted to the pipeline to store: it never imports `storage`.
"""
