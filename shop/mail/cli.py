"""``flask outbox ...``: run the worker, drain the queue once, see and retry what failed."""

import signal

import click
from flask.cli import AppGroup
from sqlalchemy import select

from shop.extensions import db
from shop.mail import worker
from shop.mail.models import FAILED, OutboxMessage
from shop.mail.services import counts_by_status, retry_messages

outbox_cli = AppGroup("outbox", help="The mail outbox.")


def _report(tally: worker.Tally) -> None:
    click.echo(f"{tally.queued} queued by jobs, {tally.sent} sent, {tally.retried} to retry, {tally.failed} failed.")


@outbox_cli.command("work")
def work_command() -> None:
    """Deliver mail until stopped (SIGTERM or Ctrl+C finish the message in hand first); run one or more per site."""
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    click.echo(f"Outbox worker {worker.worker_name()} started; links point to {worker.link_root()}.")
    try:
        tally = worker.work(should_stop=lambda: bool(stopping))
    except worker.WorkerBusy as busy:
        raise click.ClickException(str(busy)) from None
    _report(tally)


@outbox_cli.command("send-once")
def send_once_command() -> None:
    """Run the jobs and send everything due now, then exit (messages waiting for a retry stay queued)."""
    try:
        _report(worker.drain())
    except worker.WorkerBusy as busy:
        raise click.ClickException(str(busy)) from None


@outbox_cli.command("status")
def status_command() -> None:
    """How many messages are queued, being sent, sent and failed; the failed ones with their last error."""
    for status, count in counts_by_status().items():
        click.echo(f"{status}: {count}")
    for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == FAILED).limit(20)):
        click.echo(f"  #{message.id} to {message.to_address}: {message.last_error}")


@outbox_cli.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Every failed message.")
def retry_command(ids: tuple[int, ...], all_failed: bool) -> None:
    """Queue failed messages again, due now, with a fresh set of attempts."""
    if all_failed:
        ids = tuple(db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == FAILED)))
    count = retry_messages(list(ids))
    db.session.commit()
    click.echo(f"{count} message(s) queued again.")
