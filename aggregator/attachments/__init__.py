"""Attachments as documents: what a downloaded file is called and what it is (`names`),
and its text (`extract`). Nothing here fetches or stores: the services do."""
