"""What the demo (`seed_demo`) is about: its organisations, people and engagements.

Each engagement has its own story: what it is for (its SLAs and shared goals), how each
side behaves (SLAs met, problems raised, follow-through, mood) and what people say
(issues and feedback). Days are counted from the day the demo is seeded.
"""

from dataclasses import dataclass

from relationships.models import Engagement, Side

# Organisation name → (login prefix, [(role, first name, last name)]).
ORGANIZATIONS = {
    "Lumen Retail": (
        "lumen",
        [
            ("admin", "Maya", "Lindqvist"),
            ("manager", "Omar", "Haddad"),
            ("viewer", "Ines", "Costa"),
        ],
    ),
    "Bluefin IT Services": (
        "bluefin",
        [("admin", "Ravi", "Menon"), ("manager", "Sofia", "Brandt"), ("viewer", "Tom", "Okafor")],
    ),
    "Cobalt Data Works": (
        "cobalt",
        [("admin", "Lena", "Fischer"), ("manager", "Jun", "Park"), ("viewer", "Ada", "Nwosu")],
    ),
    "Arcadia Cloud Hosting": (
        "arcadia",
        [("admin", "Noah", "Reyes"), ("manager", "Priya", "Shah"), ("viewer", "Eli", "Novak")],
    ),
}


@dataclass(frozen=True)
class SlaSpec:
    owner_side: str
    name: str
    unit: str
    direction: str
    target: str
    weight: str
    met: tuple[float, float]  # the range of a value that meets the target
    missed: tuple[float, float]  # and of one that misses it
    source: str
    every: str = "week"  # a value per "day" or per "week" (Monday to Sunday)


@dataclass(frozen=True)
class GoalSpec:
    title: str
    target: str
    start: int  # days from the seeding day (negative: in the past)
    due: int
    achieved: int | None  # days from the seeding day, or None if not achieved
    progress: tuple[tuple[int, int], ...] = ()  # (days ago, percent), oldest first


@dataclass(frozen=True)
class Profile:
    """An engagement and how it behaves: drives misses, openness, follow-through and moods."""

    name: str
    client: str
    provider: str
    phase: str
    period: str
    time_zone: str
    started_days_ago: int
    slas: tuple[SlaSpec, ...]
    goals: tuple[GoalSpec, ...]
    issues: dict[str, tuple[str, ...]]  # responsible side → titles
    # from side → {"appreciation": (text, ...), "improvement": ((text, suggested action), ...)}
    feedback: dict[str, dict[str, tuple]]
    # The side whose signature the latest closed period awaits (the other side signed).
    awaiting_side: str
    ends_in_days: int | None = None
    met: tuple[float, float] = (0.85, 0.85)  # chance an SLA is met: client, provider
    self_raised: tuple[float, float] = (0.7, 0.7)  # chance a side raises its own issue
    on_time: tuple[float, float] = (0.7, 0.7)  # chance a side completes an action on time
    mood: tuple[float, float] = (3.8, 3.8)  # mean pulse answer: client view, provider view
    checkin_lapse_days: int = 0  # no check-ins in this many recent days
    # Sides that predict the best rating where the other side rates them lowest: their
    # blind spot in the survey report (PRODUCT.md §8).
    blind_spot_sides: tuple[str, ...] = ()
    # A period before the latest closed one that the client disputed (periods back from it).
    disputed_periods_back: int | None = None
    dispute: str = ""


HIGHER, LOWER = "higher_is_better", "lower_is_better"

# The stories below are tables: kept compact, one record per few lines.
# fmt: off

# The survey's texts, by the side that writes them: (start, stop, continue) suggestions.
SURVEY_TEXTS = {
    Side.CLIENT: (
        ("Share the weekly plan before Monday.", "Closing tickets before the store confirms.",
         "The Friday summary of open incidents."),
        ("Tell us about risks when you first see them.", "Rescheduling changes at short notice.",
         "Naming one owner for each escalation."),
        ("", "Sending reports as attachments only.", "Walking the stores through new tools."),
    ),
    Side.PROVIDER: (
        ("Approve changes within the agreed two days.", "Adding scope in status meetings.",
         "Joining the monthly review with decisions ready."),
        ("Tell us about store openings a month ahead.", "Escalating to our executives first.",
         "Keeping the contact list current."),
        ("Give feedback on the pilot in writing.", "", "The shared planning board."),
    ),
}

SERVICE_DESK = Profile(
    "Lumen · Bluefin service desk",
    "Lumen Retail",
    "Bluefin IT Services",
    phase=Engagement.Phase.ACTIVE,
    period="month",
    time_zone="Europe/London",
    started_days_ago=200,
    met=(0.9, 0.88),
    self_raised=(0.8, 0.85),
    on_time=(0.8, 0.85),
    mood=(4.2, 4.1),
    awaiting_side=Side.CLIENT,
    slas=(
        SlaSpec(
            Side.PROVIDER, "Service desk availability", "%", HIGHER, "99.5", "2", (99.5, 99.99),
            (97.8, 99.4), "monitoring", "day",
        ),
        SlaSpec(
            Side.PROVIDER, "P1 response", "minutes", LOWER, "60", "1", (18, 60), (65, 150),
            "ticketing tool",
        ),
        SlaSpec(
            Side.CLIENT, "Change approvals within 2 business days", "%", HIGHER, "90", "1",
            (90, 100), (55, 89), "change calendar",
        ),
        SlaSpec(
            Side.CLIENT, "Store contact list kept current", "%", HIGHER, "95", "1", (95, 100),
            (80, 94), "store directory",
        ),
    ),
    goals=(
        GoalSpec(
            "Move the service desk to the new ticketing tool",
            "All stores log tickets in the new tool", -170, -40, -45,
            ((140, 20), (100, 55), (60, 90)),
        ),
        GoalSpec(
            "Cut P1 incidents by half", "At most 6 P1 incidents a month", -120, 60, None,
            ((90, 5), (60, 12), (20, 20)),
        ),
        GoalSpec(
            "Self-service password resets for all stores", "Resets without a ticket in 400 stores",
            -80, 100, None, ((50, 25), (15, 45)),
        ),
        GoalSpec(
            "Joint staffing plan for the holiday peak", "Agreed by both steering groups", 20, 200,
            None,
        ),
    ),
    issues={
        Side.PROVIDER: (
            "P1 ticket sat unassigned over the weekend",
            "Monitoring alert routed to a departed engineer",
            "Till outage escalated to the wrong queue",
            "Patch window overran into store opening hours",
        ),
        Side.CLIENT: (
            "Firewall change approved a week late",
            "Store managers bypassed the desk and called engineers directly",
            "New store opened without a ticketing account",
        ),
    },
    feedback={
        Side.CLIENT: {
            "appreciation": (
                "The weekend cut-over went without a single ticket on Monday. Thank you.",
                "Your team flagged the certificate expiry two weeks ahead: exactly what we need.",
                "Store managers say the new desk answers faster than any before it.",
            ),
            "improvement": (
                (
                    "Incident updates arrive in bursts instead of every 30 minutes.",
                    "Post a status update every 30 minutes during P1s, even if nothing changed.",
                ),
                (
                    "The monthly report mixes planned and unplanned downtime.",
                    "Split planned and unplanned downtime into two rows in the report.",
                ),
            ),
        },
        Side.PROVIDER: {
            "appreciation": (
                "Approvals came back the same day all month; that kept the release on track.",
                "The store operations team's clear priorities made the backlog review quick.",
            ),
            "improvement": (
                (
                    "Store contact numbers are often out of date when we call back.",
                    "Ask store managers to confirm their contact details at each month's start.",
                ),
                (
                    "Change requests arrive without a rollback owner.",
                    "Name a rollback owner on every change request before it is sent.",
                ),
            ),
        },
    },
)

DATA_PLATFORM = Profile(
    "Lumen · Cobalt data platform",
    "Lumen Retail",
    "Cobalt Data Works",
    phase=Engagement.Phase.EXPANDING,
    period="month",
    time_zone="America/New_York",
    started_days_ago=195,
    met=(0.85, 0.6),
    self_raised=(0.75, 0.35),
    on_time=(0.75, 0.45),
    # The perception gap: the client is far less happy than the provider thinks.
    mood=(1.9, 4.4),
    blind_spot_sides=(Side.PROVIDER,),
    awaiting_side=Side.PROVIDER,
    disputed_periods_back=1,
    dispute=(
        "The nightly-load figures leave out the three silent failures we reported; "
        "we will sign once they are counted."
    ),
    slas=(
        SlaSpec(
            Side.PROVIDER, "Nightly load finished by 06:00", "% of nights", HIGHER, "97", "2",
            (97, 100), (80, 96), "orchestrator", "day",
        ),
        SlaSpec(
            Side.PROVIDER, "Data-quality checks passed", "%", HIGHER, "98", "1", (98, 100),
            (90, 97.9), "quality monitor", "day",
        ),
        SlaSpec(
            Side.CLIENT, "Source changes announced 10 days ahead", "%", HIGHER, "90", "1",
            (90, 100), (50, 89), "change calendar",
        ),
        SlaSpec(
            Side.CLIENT, "Data definitions signed off within 5 days", "days", LOWER, "5", "1",
            (1, 5), (6, 14), "definitions register",
        ),
    ),
    goals=(
        GoalSpec(
            "Retire the legacy sales data mart", "No report reads the old mart", -180, -30, -25,
            ((150, 30), (110, 60), (70, 85)),
        ),
        GoalSpec(
            "One customer view across online and stores", "Loyalty and web customers matched", -140,
            40, None, ((100, 10), (60, 25), (25, 40)),
        ),
        GoalSpec(
            "Daily stock forecast for every store", "Forecast ready by 07:00 each day", -90, 90,
            None, ((45, 15), (10, 30)),
        ),
        GoalSpec(
            "Self-service dashboards for category managers", "Twelve dashboards in use", 30, 180,
            None,
        ),
    ),
    issues={
        Side.PROVIDER: (
            "Nightly load failed silently; stores saw yesterday's stock",
            "Schema change broke the loyalty export",
            "Duplicate customers after the CRM merge job",
            "Forecast job ran on last week's prices",
        ),
        Side.CLIENT: (
            "Point-of-sale export changed format without notice",
            "Data owners unavailable to approve definitions",
            "Test extracts contained live card numbers",
        ),
    },
    feedback={
        Side.CLIENT: {
            "appreciation": (
                "The new stock dashboard was the first thing our buyers opened on Monday.",
                "Thank you for staying late to rerun the load before the board meeting.",
            ),
            "improvement": (
                (
                    "We learn about failed loads from store managers, not from you.",
                    "Send an alert to our data channel within 15 minutes of a failed load.",
                ),
                (
                    "Root-cause reports arrive weeks after the incident.",
                    "Share a first root-cause note within two working days of a P1.",
                ),
                (
                    "Quality figures in the monthly report exclude reruns.",
                    "Report the quality checks of first runs and reruns separately.",
                ),
            ),
        },
        Side.PROVIDER: {
            "appreciation": (
                "Your analysts' test cases caught the duplicate-customer bug before go-live.",
                "Thanks for giving us access to the loyalty sandbox so quickly.",
            ),
            "improvement": (
                (
                    "Source systems change their exports without telling us.",
                    "Add the data platform team to the change calendar of every source system.",
                ),
                (
                    "Definitions wait weeks for a business owner's approval.",
                    "Name a data owner per domain who answers within five days.",
                ),
            ),
        },
    },
)

HOSTING = Profile(
    "Cobalt · Arcadia hosting",
    "Cobalt Data Works",
    "Arcadia Cloud Hosting",
    phase=Engagement.Phase.PILOT,
    period="week",
    time_zone="Asia/Singapore",
    started_days_ago=185,
    met=(0.7, 0.8),
    self_raised=(0.6, 0.6),
    on_time=(0.55, 0.65),
    mood=(3.2, 3.6),
    # Each side thinks it is better at something than the other finds it.
    blind_spot_sides=(Side.CLIENT, Side.PROVIDER),
    checkin_lapse_days=38,
    awaiting_side=Side.CLIENT,
    slas=(
        SlaSpec(
            Side.PROVIDER, "Platform availability", "%", HIGHER, "99.9", "2", (99.9, 100),
            (98.5, 99.89), "status page", "day",
        ),
        SlaSpec(
            Side.PROVIDER, "Infrastructure tickets answered within 4 hours", "%", HIGHER, "90", "1",
            (90, 100), (60, 89), "ticketing tool", "day",
        ),
        SlaSpec(
            Side.CLIENT, "Deployments booked 48 hours ahead", "%", HIGHER, "90", "1", (90, 100),
            (50, 89), "deployment calendar", "day",
        ),
        SlaSpec(
            Side.CLIENT, "Access requests with a named approver", "%", HIGHER, "95", "1", (95, 100),
            (70, 94), "access portal",
        ),
    ),
    goals=(
        GoalSpec(
            "Move the staging environment to Arcadia", "Staging runs only on Arcadia", -175, -90,
            -95, ((150, 40), (120, 80)),
        ),
        GoalSpec(
            "Production cut-over of the ingestion cluster", "Ingestion served from Arcadia", -100,
            30, None, ((70, 20), (40, 45), (12, 60)),
        ),
        GoalSpec(
            "Restore drill passed end to end", "Full restore within 4 hours, witnessed", -60, 45,
            None, ((30, 10),),
        ),
        GoalSpec(
            "Decide whether to expand beyond the pilot", "A signed go or no-go", 25, 120, None,
        ),
    ),
    issues={
        Side.PROVIDER: (
            "Storage volume filled up during the nightly backup",
            "Maintenance notice sent to an unmonitored mailbox",
            "Load balancer certificate expired in staging",
        ),
        Side.CLIENT: (
            "Deployment pushed outside the booked window",
            "Shared admin account used for a production change",
            "Capacity request sent a day before the launch",
        ),
    },
    feedback={
        Side.CLIENT: {
            "appreciation": (
                "The staging move finished a week early and nothing broke.",
                "Your on-call engineer explained the storage incident clearly at 2 a.m.",
            ),
            "improvement": (
                (
                    "Maintenance windows are announced only two days ahead.",
                    "Announce maintenance windows a week ahead in the shared calendar.",
                ),
                (
                    "Ticket answers ask for details already in the ticket.",
                    "Read the runbook link in the ticket before asking for more details.",
                ),
            ),
        },
        Side.PROVIDER: {
            "appreciation": (
                "Your deployment checklist made the ingestion rehearsal smooth.",
                "Thanks for the early capacity forecast for the holiday peak.",
            ),
            "improvement": (
                (
                    "Deployments land outside the booked windows.",
                    "Book every production deployment in the calendar 48 hours ahead.",
                ),
                (
                    "Production changes are made with a shared admin account.",
                    "Give each engineer a named account and retire the shared one.",
                ),
            ),
        },
    },
)

LEGACY_MIGRATION = Profile(
    "Lumen · Bluefin legacy migration",
    "Lumen Retail",
    "Bluefin IT Services",
    phase=Engagement.Phase.WINDING_DOWN,
    period="quarter",
    time_zone="UTC",
    started_days_ago=290,
    ends_in_days=75,
    met=(0.8, 0.75),
    self_raised=(0.5, 0.7),
    on_time=(0.6, 0.7),
    mood=(3.4, 3.7),
    awaiting_side=Side.PROVIDER,
    slas=(
        SlaSpec(
            Side.PROVIDER, "Migrated apps available in store hours", "%", HIGHER, "99.5", "2",
            (99.5, 100), (96.0, 99.4), "monitoring", "day",
        ),
        SlaSpec(
            Side.PROVIDER, "Workloads migrated on plan", "%", HIGHER, "90", "1", (90, 100),
            (60, 89), "migration tracker",
        ),
        SlaSpec(
            Side.CLIENT, "Test sign-off within 3 days", "days", LOWER, "3", "1", (1, 3), (4, 9),
            "test management",
        ),
        SlaSpec(
            Side.CLIENT, "Knowledge-transfer sessions held", "sessions", HIGHER, "1", "1", (1, 3),
            (0, 0), "training log",
        ),
    ),
    goals=(
        GoalSpec(
            "Move the store back-office apps to the new platform", "All 14 apps migrated", -280,
            -20, -30, ((220, 15), (160, 40), (100, 70), (50, 95)),
        ),
        GoalSpec(
            "Decommission the old data-centre racks", "Racks powered off and removed", -150, 40,
            None, ((120, 10), (80, 35), (30, 60)),
        ),
        GoalSpec(
            "Hand the runbooks over to Lumen operations", "Lumen runs every runbook unaided", -110,
            60, None, ((75, 20), (35, 50), (8, 65)),
        ),
        GoalSpec(
            "Close-out report signed by both sides", "Report signed at the final review", 14, 74,
            None,
        ),
    ),
    issues={
        Side.PROVIDER: (
            "Payroll app cut-over rolled back after a missing cron job",
            "Migration rehearsal skipped the file-share permissions",
            "Old racks powered off before the archive copy finished",
        ),
        Side.CLIENT: (
            "Test sign-off for the pricing app took two weeks",
            "Store back-office users not told about the cut-over weekend",
            "Licence keys for the reporting tool could not be found",
        ),
    },
    feedback={
        Side.CLIENT: {
            "appreciation": (
                "Fourteen apps moved and the stores barely noticed. Well done.",
                "The rack decommissioning plan is the clearest we have seen.",
            ),
            "improvement": (
                (
                    "Rollback decisions are taken without us on the call.",
                    "Invite our duty manager to every go or no-go call.",
                ),
                (
                    "Runbooks assume knowledge our operations team does not have.",
                    "Walk through each runbook with our operations team before handing it over.",
                ),
            ),
        },
        Side.PROVIDER: {
            "appreciation": (
                "Your testers turned the pricing app around in a day this time. Thank you.",
                "The store communication before the last cut-over saved us many calls.",
            ),
            "improvement": (
                (
                    "Test sign-offs wait for one person who is often away.",
                    "Name a second approver for test sign-off.",
                ),
                (
                    "Knowledge-transfer sessions get cancelled at short notice.",
                    "Keep the weekly knowledge-transfer slot unless both sides agree to move it.",
                ),
            ),
        },
    },
)

PROFILES = (SERVICE_DESK, DATA_PLATFORM, HOSTING, LEGACY_MIGRATION)

# A proposal waiting for the counterpart's admin: (proposing organisation, counterpart, name,
# phase, days from the seeding day to its start).
PROPOSAL = (
    "Cobalt Data Works",
    "Arcadia Cloud Hosting",
    "Cobalt · Arcadia disaster-recovery site",
    Engagement.Phase.PILOT,
    30,
)

# Terms under discussion on the service desk (PRODUCT.md §7): the client asks for a higher
# availability target and the provider comments; the provider asked for other weights and
# the client declined; the client recorded a value of the provider's SLA for the latest
# closed period (a store's outage log), which the provider disputes.
AGREEMENT = SERVICE_DESK
TARGET_REQUEST = (
    "Service desk availability",
    "99.7",
    "We can commit to 99.7 once the second site is live in the new year.",
)
DECLINED_WEIGHTS = (
    {"reliance": 35, "sentiment": 5},
    "The survey is how our store managers are heard; we keep its weight.",
)
DISPUTED_VALUE = (
    "Service desk availability",
    "97.9",
    "store 114 outage log",
    "Our monitoring shows the desk up all day; store 114 lost its own network.",
)

# Comments of a side that signs a scorecard.
SIGN_COMMENTS = {
    Side.CLIENT: (
        "Matches what our stores reported this period.",
        "Agreed; see the action items from the review meeting.",
        "",
    ),
    Side.PROVIDER: (
        "Numbers match our service reports.",
        "Agreed. The misses are covered in the action items.",
        "",
    ),
}
# fmt: on
