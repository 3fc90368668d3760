"""Browser dashboard pages, a module per page: portfolio, engagement, alerts, exports.

Views stay thin: reads are set-based selectors (constant in the number of
engagements), writes go through the services of the app that owns the data.
"""
