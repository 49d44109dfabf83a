//! Turning records into text for a terminal: tables, JSON, colour.
