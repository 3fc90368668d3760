-- The floor for one month's recompute: the same aggregates the scoring model reads,
-- for all six dimensions, per engagement and side, computed by PostgreSQL alone
-- (no explanation, no writes). One row per engagement and side; engagement-wide
-- dimensions (contact, alignment) repeat on both rows.
--
--   psql "$DATABASE_URL" -v period_start=2026-10-01 -f benchmarks/floor.sql
--
-- Same populations as PRODUCT.md §3 and scorecards/compute.py: current records only,
-- dates up to each engagement's as_of (in its own time zone), survey views counted
-- only from the engagement's threshold of respondents.
WITH period AS (
    SELECT :'period_start'::date AS p_start,
           (:'period_start'::date + interval '1 month' - interval '1 day')::date AS p_end
),
engagement AS (
    SELECT e.id, e.start_date, e.checkin_cadence_days AS cadence, p.p_start, p.p_end,
           LEAST(p.p_end, (now() AT TIME ZONE e.time_zone)::date,
                 COALESCE(e.end_date, p.p_end)) AS as_of,
           COALESCE(c.survey_threshold, 3) AS threshold
    FROM relationships_engagement e
    CROSS JOIN period p
    LEFT JOIN scorecards_scoringconfig c ON c.engagement_id = e.id
    WHERE e.status = 'active' AND e.scorecard_period = 'month' AND e.start_date <= p.p_end
),
scored AS (
    SELECT * FROM engagement WHERE start_date <= as_of AND as_of >= p_start
),
side AS (
    SELECT s.id AS engagement_id, v.side
    FROM scored s CROSS JOIN (VALUES ('client'), ('provider')) AS v (side)
),
sla_attainment AS (
    SELECT s.engagement_id, s.owner_side AS side, s.weight,
           count(*) AS measured,
           count(*) FILTER (WHERE CASE WHEN s.direction = 'higher_is_better'
                                       THEN m.value >= s.target
                                       ELSE m.value <= s.target END) AS met
    FROM scored e
    JOIN relationships_sla s ON s.engagement_id = e.id
    -- The period's bounds as constants, so the (sla, period_start) index bounds the scan.
    JOIN relationships_measurement m
      ON m.sla_id = s.id AND m.superseded_at IS NULL
     AND m.period_start BETWEEN :'period_start'::date
                            AND (:'period_start'::date + interval '1 month' - interval '1 day')::date
    GROUP BY s.id
),
reliance AS (
    SELECT engagement_id, side,
           100 * sum(weight * met / measured) / sum(weight) AS reliance
    FROM sla_attainment GROUP BY engagement_id, side
),
contact AS (
    SELECT e.id AS engagement_id,
           100 * LEAST(1, count(DISTINCT c.occurred_on)::numeric
                          / GREATEST(1, (e.as_of - GREATEST(e.p_start, e.start_date) + 1)
                                        / e.cadence)) AS contact
    FROM scored e
    LEFT JOIN feedback_checkin c
      ON c.engagement_id = e.id
     AND c.occurred_on BETWEEN GREATEST(e.p_start, e.start_date) AND e.as_of
    GROUP BY e.id, e.as_of, e.p_start, e.start_date, e.cadence
),
last_checkin AS (
    SELECT e.id AS engagement_id, max(c.occurred_on) AS last_checkin_on
    FROM scored e
    JOIN feedback_checkin c ON c.engagement_id = e.id AND c.occurred_on <= e.as_of
    GROUP BY e.id
),
transparency AS (
    SELECT i.engagement_id, i.responsible_side AS side,
           100.0 * count(*) FILTER (WHERE i.raised_by_side = i.responsible_side) / count(*)
               AS transparency
    FROM scored e
    JOIN feedback_issue i
      ON i.engagement_id = e.id AND i.raised_on BETWEEN e.p_start AND e.as_of
    GROUP BY i.engagement_id, i.responsible_side
),
dedication AS (
    SELECT a.engagement_id, a.owner_side AS side,
           100.0 * count(*) FILTER (WHERE a.completed_on <= a.due_date) / count(*) AS dedication
    FROM scored e
    JOIN feedback_actionitem a
      ON a.engagement_id = e.id AND NOT a.cancelled
     AND a.due_date BETWEEN e.p_start AND e.as_of
    GROUP BY a.engagement_id, a.owner_side
),
goal AS (
    SELECT g.engagement_id,
           CASE WHEN g.due_date = g.start_date THEN 1.0
                ELSE LEAST(1.0, GREATEST(0.0, (e.as_of - g.start_date)::numeric
                                              / (g.due_date - g.start_date))) END AS expected,
           CASE WHEN g.achieved_on <= e.as_of THEN 1.0
                ELSE COALESCE(latest.percent, 0) / 100.0 END AS actual
    FROM scored e
    JOIN relationships_sharedgoal g
      ON g.engagement_id = e.id AND NOT g.cancelled AND g.start_date <= e.as_of
     AND (g.due_date >= e.p_start OR g.achieved_on IS NULL OR g.achieved_on >= e.p_start)
    LEFT JOIN LATERAL (
        SELECT p.percent FROM relationships_goalprogress p
        WHERE p.goal_id = g.id AND p.date <= e.as_of
        ORDER BY p.date DESC, p.created_at DESC, p.id DESC LIMIT 1
    ) latest ON true
),
alignment AS (
    SELECT engagement_id,
           100 * avg(CASE WHEN expected = 0 THEN 1 ELSE LEAST(1, actual / expected) END)
               AS alignment
    FROM goal GROUP BY engagement_id
),
sentiment AS (
    SELECT r.engagement_id, r.side,
           count(DISTINCT r.respondent_id) AS respondents,
           avg((r.hear_often + r.deliver_promises + r.raise_problems_early + r.follow_through
                + r.same_goals + r.trust_overall) / 6.0 - 1) / 4 * 100 AS view
    FROM scored e
    JOIN feedback_pulseresponse r
      ON r.engagement_id = e.id AND r.superseded_at IS NULL
     AND r.period_kind = 'month' AND r.period_start = e.p_start
    GROUP BY r.engagement_id, r.side
)
SELECT s.engagement_id, s.side,
       c.contact, l.last_checkin_on, r.reliance, t.transparency, d.dedication, a.alignment,
       CASE WHEN v.respondents >= e.threshold THEN v.view END AS sentiment_view
FROM side s
JOIN scored e ON e.id = s.engagement_id
JOIN contact c ON c.engagement_id = s.engagement_id
LEFT JOIN last_checkin l ON l.engagement_id = s.engagement_id
LEFT JOIN reliance r ON r.engagement_id = s.engagement_id AND r.side = s.side
LEFT JOIN transparency t ON t.engagement_id = s.engagement_id AND t.side = s.side
LEFT JOIN dedication d ON d.engagement_id = s.engagement_id AND d.side = s.side
LEFT JOIN alignment a ON a.engagement_id = s.engagement_id
LEFT JOIN sentiment v ON v.engagement_id = s.engagement_id AND v.side = s.side
ORDER BY s.engagement_id, s.side;
