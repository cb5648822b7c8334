"""The device: a job's end (its outcome drawn at submission, or its max_execution_time), and
what follows when a job leaves the device or the queue."""

from __future__ import annotations

from heapq import heappush

from mypy_extensions import mypyc_attr

from model.sim.entities import JobRecord
from model.sim.timers import Timers


@mypyc_attr(allow_interpreted_subclasses=True)
class Device(Timers):
    """Jobs on and off the device (SCHED-ONE-AT-A-TIME, JOB-MAX-EXECUTION, DEVICE-FAULT, DEVICE-RUNS-DURATION)."""

    def action_arm_max_execution_time(self, job: JobRecord) -> None:
        """Arm the max_execution_time timer and the device's end of the job as one event."""
        token = job.token = job.token + 1
        run = job.max_execution_time if job.duration > job.max_execution_time else job.duration
        heappush(self._heap, (self.now + run, self.job_end_order, next(self._seq), self._job_end, job, token))

    def on_job_end(self, job: JobRecord, token: int) -> None:
        """Extension point: the job's end comes due: the device's outcome, or max_execution_time."""
        if job.token != token or job.state != "running":
            return
        if job.duration > job.max_execution_time:
            self._fire_max_execution_time.on(job)
        elif job.fault:
            self._fire_device_error.on(job)
        else:
            self._fire_complete.on(job)
            self.leave_device(job)
            return
        self._failed_on_device(job)

    def _failed_on_device(self, job: JobRecord) -> None:
        """Free the device after a failure; a first job's failure dooms its session's other jobs first
        (INT-FIRST-JOB-FAILURE=as_cancel), before the device is dispatched again, as a cancel does."""
        if self.dooms_by_failing(job):
            session = job.session
            assert session is not None
            self.leave_device(job, dispatch=False)
            self.first_job_failed(session)
        else:
            self.leave_device(job)

    def leave_device(self, job: JobRecord, dispatch: bool = True) -> None:
        """Extension point: the job stopped running (any outcome): free the device, let the scheduler go on."""
        backend = job.backend
        job.ended_at = self.now
        job.token += 1
        backend.running = None
        if backend.charges:  # FIFO keeps no account of usage
            assert job.started_at is not None
            backend.queue.charge(job, self.now - job.started_at)
        self._fire_job_ended.on(backend)
        session = job.session
        if session is not None:
            session.running = None
            self.update_window(session)
            if self._unused_timeout is not None:
                self.job_left_session(session)
        self.retention.job_ended(self.jobs, job)
        if dispatch:
            self.dispatch.on(backend)

    def leave_queue(self, job: JobRecord) -> None:
        """The job left ``queued`` without starting (cancelled or failed)."""
        job.ended_at = self.now
        session = job.session
        if session is not None:
            session.n_queued -= 1
            self.update_window(session)
            if self._unused_timeout is not None:
                self.job_left_session(session)
        self.retention.job_ended(self.jobs, job)

    def end_running(self, job: JobRecord, trigger: str) -> None:
        """The device ends the running ``job`` now with ``trigger`` (``complete`` or ``device_error``)."""
        self.fire(self.job_fsm, job, trigger)
        if trigger == "complete":
            self.leave_device(job)
        else:
            self._failed_on_device(job)
