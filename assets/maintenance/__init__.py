"""Maintenance: keeping the warehouse's growth bounded."""
