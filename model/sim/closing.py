"""What a closing session does to its unfinished jobs, and a first job's cancel to its session.

Under the platform profile a closed session drains (PLATFORM-CLOSE-DRAINS): it is ``pending_closed``
while it has a job queued or running, and ``drained`` closes it when its last job ends."""

from __future__ import annotations

from mypy_extensions import mypyc_attr

from model.sim.core import Core
from model.sim.entities import JobRecord, SessionRecord
from model.spec.interpretations import FirstJobCancel, PlatformFirstJobCancel
from model.spec.lifecycles import SESSION_FINAL


@mypyc_attr(allow_interpreted_subclasses=True)
class Closing(Core):
    """CLOSE-FAILS-INCOMPLETE, MAXTIME-EXPIRY (its jobs) and FIRST-JOB-CANCEL."""

    def fail_unfinished(self, session: SessionRecord, trigger: str) -> None:
        """Extension point: a session is closing; fail its unfinished jobs with the job trigger its closing names.

        The dispatcher calls it as the closing transition's ``cascade``; the running job fails only where
        the declaration has ``trigger`` from running (INT-CLOSE-RUNNING-JOB, INT-EXPIRY-RUNNING-JOB).
        """
        self.fail_queued(session, trigger)
        running = session.running
        if running is not None and running.state == "running" and self.job_fsm.allows("running", trigger):
            self.fire(self.job_fsm, running, trigger)
            self.leave_device(running)

    def fail_queued(self, session: SessionRecord, trigger: str) -> None:
        """Fail the session's queued jobs with ``trigger``."""
        for job in list(session.queue):
            if job.state == "queued":
                self.fire(self.job_fsm, job, trigger)
                self.leave_queue(job)
        session.queue.clear()

    def guard_session_has_unfinished_jobs(self, session: SessionRecord) -> bool:
        """A job of the session is queued or running: a platform close drains it (PLATFORM-CLOSE-DRAINS)."""
        return session.n_queued > 0 or session.running is not None

    def job_left_session(self, session: SessionRecord) -> None:
        """A job of ``session`` ended: its unused timer runs anew; a closing session with none left closes."""
        if self._unused_timeout is not None and session.state not in SESSION_FINAL:
            if session.batch and session.state == "active" and session.running is None:
                self.fire(self.session_fsm, session, "batch_job_ended")  # not exclusive: the device goes back
            if session.state == "pending_closed":
                if session.n_queued == 0 and session.running is None:
                    self.fire(self.session_fsm, session, "drained")
            else:
                self.arm_unused(session)

    def first_job_cancelled(self, session: SessionRecord) -> None:
        """Extension point: the session's first job was cancelled (INT-FIRST-JOB-CANCEL; under the platform,
        INT-PLATFORM-FIRST-JOB-CANCEL)."""
        if self.interpretation.is_platform:
            if self.policy.platform_first_job_cancel is PlatformFirstJobCancel.FAIL_SUBSEQUENT:
                session.doomed = "first_job_cancelled"
                self.fail_queued(session, "first_job_cancelled")
            self.dispatch.on(session.backend)
            return
        self._doom(session, "first_job_cancelled")

    def first_job_failed(self, session: SessionRecord) -> None:
        """Extension point: the session's first job failed, under INT-FIRST-JOB-FAILURE=as_cancel: what a
        cancel does (INT-FIRST-JOB-CANCEL), under the trigger and reason ``first_job_failed``."""
        self._doom(session, "first_job_failed")

    def _doom(self, session: SessionRecord, trigger: str) -> None:
        if self.policy.first_job_cancel is FirstJobCancel.CLOSE_SESSION:
            self.fire(self.session_fsm, session, trigger)
        else:
            session.doomed = trigger
            self.fail_queued(session, trigger)
        self.dispatch.on(session.backend)

    def dooms_by_failing(self, job: JobRecord) -> bool:
        """Whether ``job``, failing now, is its live session's first job under INT-FIRST-JOB-FAILURE=as_cancel."""
        session = job.session
        return (
            self._doom_on_failure and session is not None and session.first_job is job
            and session.state not in SESSION_FINAL
        )
