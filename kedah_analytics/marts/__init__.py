"""The analysts' layer: marts (overview per city, place rankings, sentiment by category, top
posts), periods with their previous period, and alerts that explain themselves.

build    the marts as plain functions of place_daily_metrics, classified and raw posts, places
alerts   bursts (from the trend detector) and sentiment dips, their evidence, message and cooldown
periods  weeks, months, last N days, ranges, and the period before
columns  what each mart column means
"""
