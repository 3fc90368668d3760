import logging
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from relationships.models import Engagement
from relationships.periods import period_containing
from scorecards.models import ScorecardRun
from scorecards.runs import (
    UNFINISHED,
    create_runs,
    has_days_to_score,
    periods_to_compute,
    run_in_process,
)


class Command(BaseCommand):
    help = (
        "Compute scorecards. Without --period-start: the current and previous period of "
        "each active engagement plus any missing recent period, as the nightly run does."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--period-start",
            type=date.fromisoformat,
            help="A date (YYYY-MM-DD); computes the period of each engagement containing it.",
        )
        parser.add_argument(
            "--engagement",
            type=int,
            action="append",
            dest="engagements",
            help="An engagement id (repeatable); default: every active engagement.",
        )
        parser.add_argument(
            "--sync", action="store_true", help="Compute in this process instead of queueing."
        )

    def handle(self, *args, period_start, engagements, sync, **options):
        if engagements:
            missing = set(engagements) - set(
                Engagement.objects.filter(pk__in=engagements).values_list("pk", flat=True)
            )
            if missing:
                raise CommandError(f"No engagement with id {', '.join(map(str, sorted(missing)))}.")
        if period_start:
            wanted = self._period_of(period_start, engagements)
        else:
            wanted = periods_to_compute(today=timezone.localdate(), engagement_ids=engagements)
        if not wanted:
            self.stdout.write("Nothing to compute.")
            return
        # Celery logs each task it runs here (with --sync, or eagerly without a broker);
        # this command prints its own progress.
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
        runs = create_runs(wanted, trigger=ScorecardRun.Trigger.COMMAND, dispatch=not sync)
        queued = 0
        for run in runs:
            if sync:
                self._heading(run)
                for done, total in run_in_process(run):
                    self.stdout.write(f"  chunk {done}/{total} done")
            else:
                # Without a broker (eager tasks) the runs have been computed in-process by now.
                run.refresh_from_db()
                if run.status in UNFINISHED:
                    queued += 1
                    self.stdout.write(
                        f"Queued run #{run.pk}: {run.period_kind} from {run.period_start}, "
                        f"{run.engagements_total} engagements in {run.chunks_total} chunks."
                    )
                    continue
                self._heading(run)
            self._summary(run)
        if queued:
            self.stdout.write(f"{queued} runs queued; a worker computes them.")

    def _period_of(self, day: date, engagement_ids: list[int] | None) -> dict:
        active = Engagement.objects.filter(status=Engagement.Status.ACTIVE)
        if engagement_ids:
            active = Engagement.objects.filter(pk__in=engagement_ids)
        wanted: dict = {}
        for pk, kind, start_date, end_date in active.values_list(
            "pk", "scorecard_period", "start_date", "end_date"
        ):
            period = period_containing(kind, day)
            if has_days_to_score(period, start_date, end_date):
                wanted.setdefault((kind, period.start), []).append(pk)
        return wanted

    def _heading(self, run: ScorecardRun) -> None:
        self.stdout.write(
            f"Run #{run.pk}: {run.period_kind} from {run.period_start}, "
            f"{run.engagements_total} engagements"
        )

    def _summary(self, run: ScorecardRun) -> None:
        run.refresh_from_db()
        style = self.style.SUCCESS if run.status == run.Status.SUCCEEDED else self.style.ERROR
        self.stdout.write(
            style(
                f"  {run.get_status_display()}: {run.scorecards_written} scorecards written, "
                f"{run.alerts_raised} alerts raised, {run.chunks_failed} of "
                f"{run.chunks_total} chunks failed"
            )
        )
        if run.error:
            self.stdout.write(self.style.ERROR(f"  {run.error}"))
