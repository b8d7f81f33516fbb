"""The composition root: builds every adapter and service from the settings, wires them, starts and stops them
in order. Nothing else constructs adapters."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from typing import Any

from aiohttp import web

from ntpd112.backoff import Backoff
from ntpd112.calls.handler import CallHandler
from ntpd112.calls.reconcile import Reconciler
from ntpd112.config import Settings, url_origin
from ntpd112.dispatch.actor import DispatchService
from ntpd112.dispatch.desks import DeskService
from ntpd112.dispatch.eido import EidoService
from ntpd112.dispatch.escalation import EscalationChecker
from ntpd112.dispatch.incidents import IncidentService
from ntpd112.dispatch.notify import TicketEventChannel, TicketEvents
from ntpd112.dispatch.phone_calls import PhoneCaller, PhoneCallSettings, PhoneNotifier
from ntpd112.dispatch.routing_service import RoutingService
from ntpd112.dispatch.tickets import TicketService
from ntpd112.dispatch.webhooks import TicketNotifier, WebhookSender
from ntpd112.heap import freeze_startup_objects
from ntpd112.live import Hub
from ntpd112.logs import get_logger
from ntpd112.metrics import EventLoopWatch, Metrics
from ntpd112.pbx.ami import AmiClient
from ntpd112.pbx.ari import AriClient
from ntpd112.pbx.ari_models import AriEvent, ChannelDestroyed, StasisEnd, StasisStart
from ntpd112.pbx.asterisk_config import TrunkTable, load_trunks
from ntpd112.pbx.names import DISPATCH_STASIS_ARG
from ntpd112.pbx.queue_log import QueueLogFile
from ntpd112.publish.monthly import MonthlyReports
from ntpd112.publish.report_files import ReportFiles
from ntpd112.queue.callbacks import CallbackService
from ntpd112.queue.controls import QueueControls
from ntpd112.queue.events import PendingPulls, QueueEventRecorder
from ntpd112.queue.operators import OperatorService
from ntpd112.queue.presence import Presence
from ntpd112.queue.pull_events import PullEventRecorder
from ntpd112.queue.spy import SpyService
from ntpd112.queue.wallboard import WallboardService
from ntpd112.room.config import RoomConfig, load_room
from ntpd112.store.aml import AmlRepository
from ntpd112.store.area_map import AreaMap
from ntpd112.store.attachments import TicketPhotos
from ntpd112.store.audit import AuditTrail
from ntpd112.store.db import Database
from ntpd112.store.eido import EidoRepository
from ntpd112.store.escalations import Escalations
from ntpd112.store.incidents import IncidentRepository
from ntpd112.store.intake_lookups import IntakeLookups
from ntpd112.store.journal import Journal
from ntpd112.store.phone_calls import PhoneCalls
from ntpd112.store.pins import Pins
from ntpd112.store.presence import PresenceLog
from ntpd112.store.recordings import Recordings
from ntpd112.store.repo import Repository
from ntpd112.store.reports import ReportRepository
from ntpd112.store.routing_versions import RoutingVersionRepository
from ntpd112.store.sessions import Sessions
from ntpd112.store.tickets import TicketRepository
from ntpd112.store.tokens import Tokens
from ntpd112.store.users import Users
from ntpd112.store.wallboard import WallboardRepository
from ntpd112.store.webhooks import WebhookDeliveries, WebhookSecrets
from ntpd112.tickets.flow import TicketStatus
from ntpd112.web.app import Accounts, HttpPolicy, WebDeps, create_app
from ntpd112.web.hardening import HardenedAppRunner, server_tls_context
from ntpd112.web.map_tiles import MapTiles

log = get_logger(__name__)


class Service:
    def __init__(self, settings: Settings, trunks: TrunkTable | None = None, room: RoomConfig | None = None) -> None:
        self.settings = settings

        def backoff() -> Backoff:
            return Backoff(settings.reconnect_initial_delay, settings.reconnect_max_delay)

        self.metrics = Metrics()
        self.loop_watch = EventLoopWatch(self.metrics.event_loop_late_seconds)
        self.hub = Hub()
        self.database = Database(settings.database_url.get_secret_value())
        self.journal = Journal(
            self.database, settings.spool_dir, settings.journal_max_in_memory, backoff(), hub=self.hub
        )
        self.repository = Repository(self.database)
        self.ari = AriClient(
            settings.ari_base_url,
            settings.ari_username,
            settings.ari_password,
            settings.ari_app,
            request_timeout=settings.ari_request_timeout,
            backoff=backoff(),
        )
        self.ami = AmiClient.from_settings(settings)
        self.routing = RoutingService(
            RoutingVersionRepository(self.database),
            settings.database_url.get_secret_value(),
            self.ami,
            settings.asterisk_config_dir,
            backoff,
        )
        incidents = IncidentRepository(self.database, self.hub)
        self.incidents = IncidentService(incidents, self.routing)
        room = room or load_room()
        trunks = trunks or load_trunks()
        # Intake's lookups: stopped before the database, since a lookup past its limit runs on to its end.
        self.intake_lookups = IntakeLookups(self.database)
        self.calls = CallHandler(
            self.ari, self.ami, self.journal, trunks, self.metrics, self.intake_lookups, room.priority
        )
        cdr_url = (settings.cdr_database_url or settings.database_url).get_secret_value()
        self.cdr_database = self.database if cdr_url == settings.database_url.get_secret_value() else Database(cdr_url)
        self.reconciler = Reconciler(
            self.database,
            self.cdr_database,
            self.journal,
            trunks,
            lambda uniqueid: uniqueid in self.calls.active,
            interval=settings.reconcile_interval,
            lookback=timedelta(hours=settings.reconcile_lookback_hours),
            queue_log=QueueLogFile(settings.queue_log_path) if settings.queue_log_path else None,
        )
        # Callers being pulled out of the queue by a supervisor (queue/controls.py, queue/events.py).
        self.pulls = PendingPulls()
        self.operators = OperatorService(self.database, self.ami, wrapup_seconds=room.queue.wrapup_seconds)
        self.desks = DeskService(self.database, self.ami)
        ticket_rows = TicketRepository(self.database, self.hub)
        self.webhook_secrets = WebhookSecrets(self.database)
        self.webhook_deliveries = WebhookDeliveries(self.database)
        self.webhooks = WebhookSender(
            self.webhook_deliveries,
            self.webhook_secrets,
            self.routing,
            Backoff(settings.webhook_retry_initial_delay, settings.webhook_retry_max_delay),
            timeout=settings.webhook_timeout,
            max_attempts=settings.webhook_max_attempts,
        )
        channels: list[TicketEventChannel] = [
            TicketNotifier(ticket_rows, self.webhook_deliveries, self.routing, self.webhooks.wake, settings.eido_domain)
        ]
        self.phone_calls = PhoneCalls(self.database)
        self.phone_caller: PhoneCaller | None = None
        if settings.asterisk_sounds_dir is not None:
            self.phone_caller = PhoneCaller(
                self.phone_calls,
                ticket_rows,
                self.ami,
                # Late-bound: the ticket service is made below, with this caller among its notifiers.
                lambda ticket_id, who, reason: self.tickets.transition(
                    ticket_id, TicketStatus.ACKNOWLEDGED, who, reason, None
                ),
                Backoff(settings.ticket_call_retry_initial_delay, settings.ticket_call_retry_max_delay),
                PhoneCallSettings(
                    trunk=room.agency_trunk.name,
                    sounds_dir=settings.asterisk_sounds_dir,
                    ring_seconds=settings.ticket_call_ring_seconds,
                    digit_seconds=settings.ticket_call_key_seconds,
                    max_attempts=settings.ticket_call_max_attempts,
                ),
            )
            self.phone_caller.attach(self.ami)
            channels.append(PhoneNotifier(ticket_rows, self.phone_calls, self.routing, self.phone_caller.wake))
        notifier = TicketEvents(channels)
        self.tickets = TicketService(ticket_rows, incidents, self.routing, notifier)
        self.photos = TicketPhotos(
            self.database,
            settings.ticket_attachments_dir,
            self.hub,
            max_bytes=settings.ticket_max_photo_bytes,
            max_per_ticket=settings.ticket_max_photos,
            upload_timeout=settings.ticket_photo_upload_timeout,
        )
        self.eido = EidoService(EidoRepository(self.database), self.tickets, self.routing, settings.eido_domain)
        self.escalations = Escalations(self.database, self.hub)
        self.escalation_checker = EscalationChecker(
            self.escalations, self.routing, notifier, interval=settings.ticket_check_interval
        )
        self.dispatch = DispatchService(
            self.ari,
            self.ami,
            self.journal,
            incidents,
            self.routing,
            self.calls,
            self.tickets,
        )
        self.callbacks = CallbackService(self.database, self.ami, self.journal, trunks)
        self.callbacks.attach(self.ami)
        self.spy = SpyService(self.database, self.ami, self.hub)
        self.spy.attach(self.ami)
        self.queue_events = QueueEventRecorder(self.journal, self.pulls, on_the_line=self.calls.active.__contains__)
        self.queue_events.attach(self.ami)
        self.calls.ended_listeners.append(self.queue_events.call_ended)
        PullEventRecorder(self.journal).attach(self.ami)
        Presence(self.hub, PresenceLog(self.database)).attach(self.ami)
        self.metrics.watch(
            counters={
                "ntpd112_ari_reconnects": ("ARI websocket reconnects", lambda: self.ari.reconnects),
                "ntpd112_ami_reconnects": (
                    "AMI reconnects (logins after the first)",
                    lambda: self.ami.reconnects,
                ),
            },
            gauges={"ntpd112_journal_backlog": ("records waiting for the database", lambda: self.journal.backlog)},
        )
        reports = ReportRepository(self.database, room.queue.wrapup_seconds)
        self.report_files = ReportFiles(room.reports.logo)
        # The monthly report files, when the room names a directory for them ([reports] monthly_dir).
        self.monthly = (
            MonthlyReports(
                reports.build, room.reports, room.reports.monthly_dir, self.routing.table_or_none, self.report_files
            )
            if room.reports.monthly_dir is not None
            else None
        )
        self.accounts = Accounts(
            Users(self.database),
            Sessions(
                self.database,
                idle=timedelta(minutes=settings.session_idle_minutes),
                absolute=timedelta(hours=settings.session_absolute_hours),
            ),
            Tokens(self.database),
            AuditTrail(self.database),
            public_origin=settings.public_origin,
        )
        self.web_app = create_app(
            WebDeps(
                self.repository,
                self.metrics,
                self.health,
                routing=self.routing,
                incidents=self.incidents,
                operators=self.operators,
                callbacks=self.callbacks,
                dispatch=self.dispatch,
                desks=self.desks,
                tickets=self.tickets,
                accounts=self.accounts,
                hub=self.hub,
                pins=Pins(self.database, self.hub),
                areas=AreaMap(self.database),
                reports=reports,
                report_settings=room.reports,
                report_files=self.report_files,
                recordings=Recordings(self.database, settings.recordings_dir),
                wallboard=WallboardService(
                    WallboardRepository(self.database), self.ami, self.hub, room.queue, room.reports
                ),
                photos=self.photos,
                spy=self.spy,
                queue_controls=QueueControls(
                    self.database,
                    self.ami,
                    self.journal,
                    self.hub,
                    self.operators,
                    self.pulls,
                    pull_ring_seconds=room.queue.pull_ring_seconds,
                ),
                aml=AmlRepository(self.database, self.hub),
                aml_hmac_secret=settings.aml_hmac_secret,
                webhook_secrets=self.webhook_secrets,
                webhook_deliveries=self.webhook_deliveries,
                phone_calls=self.phone_calls,
                map_tiles=MapTiles(settings.map_tile_url, settings.map_tile_dir),
                eido=self.eido,
            ),
            HttpPolicy(
                body_timeout=settings.http_body_timeout,
                max_body_bytes=settings.http_max_body_bytes,
                loopback_sees_details=settings.http_loopback_details,
                stream_liveness_interval=settings.stream_liveness_seconds,
                image_origins=(url_origin(settings.map_tile_url),) if settings.map_tile_url else (),
            ),
        )
        self._runner: web.AppRunner | None = None

    async def health(self) -> dict[str, dict[str, Any]]:
        return {
            "ari": self.ari.health(),
            "ami": self.ami.health(),
            "database": await self.database.health(),
            "journal": self.journal.health(),
            "routing": self.routing.health(),
            "reconciliation": self.reconciler.health(),
        }

    async def _resync_phones(self) -> None:
        await self.operators.resync()
        await self.desks.resync()

    async def _on_ari_event(self, event: AriEvent) -> None:
        """Who handles an ARI event. A channel entering Stasis with DISPATCH_STASIS_ARG is dispatch's (caller and
        operator taken over for a dispatch, an agency that answered), not a new 112 call: its StasisStart goes to
        dispatch alone. Every other event reaches the call handler, which records how each call ends (a hangup in
        the middle of a dispatch included); dispatch also hears of channels leaving, to follow the ones it holds."""
        if isinstance(event, StasisStart) and event.args[:1] == [DISPATCH_STASIS_ARG]:
            await self.dispatch.on_stasis_start(event)
            return
        if isinstance(event, ChannelDestroyed | StasisEnd):
            self.dispatch.on_channel_left(event)
        await self.calls.on_event(event)

    async def start(self) -> None:
        await self.loop_watch.start()
        await self.database.start()
        await self.journal.start()
        await asyncio.to_thread(self.photos.prepare)
        if self.cdr_database is not self.database:
            await self.cdr_database.start()
        await self.ami.start(on_login=self._resync_phones)
        await self.routing.start()
        await self.ari.start(self._on_ari_event, self.calls.resync)
        await self.reconciler.start()
        await self.webhooks.start()
        await self.escalation_checker.start()
        if self.phone_caller is not None:
            await self.phone_caller.start()
        else:
            log.info("phone notifications of tickets off: NTPD112_ASTERISK_SOUNDS_DIR is not set")
        if self.monthly is not None:
            await self.monthly.start()
        self._runner = HardenedAppRunner(
            self.web_app,
            header_timeout=self.settings.http_header_timeout,
            max_header_bytes=self.settings.http_max_header_bytes,
        )
        await self._runner.setup()
        tls = server_tls_context(self.settings.http_tls_cert_file, self.settings.http_tls_key_file)
        await web.TCPSite(self._runner, self.settings.http_host, self.settings.http_port, ssl_context=tls).start()
        log.info(
            "ntpd112 started",
            http=f"{'https' if tls else 'http'}://{self.settings.http_host}:{self.settings.http_port}",
            ari=self.settings.ari_base_url,
            ami=f"{self.settings.ami_host}:{self.settings.ami_port}",
            event_loop=type(asyncio.get_running_loop()).__module__.split(".")[0],  # uvloop under `ntpd112 run`
        )

    async def stop(self) -> None:
        # Reverse order: stop taking work, then let the journal flush, then close the database.
        if self._runner is not None:
            await self._runner.cleanup()
        await self.reconciler.stop()
        await self.escalation_checker.stop()
        if self.phone_caller is not None:
            await self.phone_caller.stop()
        await self.webhooks.stop()
        if self.monthly is not None:
            await self.monthly.stop()
        await self.report_files.stop()
        await self.dispatch.stop()
        await self.ari.stop()
        await self.routing.stop()
        await self.ami.stop()
        self.queue_events.stop()  # after AMI and ARI (no event can follow), before the journal writes its last
        await self.intake_lookups.stop()
        await self.journal.stop()
        await self.database.stop()
        if self.cdr_database is not self.database:
            await self.cdr_database.stop()
        await self.loop_watch.stop()
        log.info("ntpd112 stopped")


async def run_service(settings: Settings) -> None:
    service = Service(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await service.start()
    freeze_startup_objects()
    try:
        await stop.wait()
    finally:
        await service.stop()
