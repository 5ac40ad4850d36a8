"""Mostrador's composition root and command line.

Settings -> storage -> checkpointer -> graph -> channels -> one aiohttp app;
runs until SIGTERM/SIGINT, then drains in-flight turns and closes cleanly.

    python bot.py [serve]                 the daemon
    python bot.py chat                    talk to the bot in the terminal
    python bot.py import-products FILE    import a CSV catalog (progress bar)
    python bot.py eval FILE               play scripted conversations, report passes
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from config.settings import REPO_ROOT, Settings

log = logging.getLogger("mostrador")
DEMO_CATALOG = REPO_ROOT / "config" / "demo_catalog.csv"
EXAMPLE_KNOWLEDGE = REPO_ROOT / "config" / "knowledge"


@dataclass
class Daemon:
    """Everything `assemble` wires together (tests and commands use it too)."""

    settings: object
    app: web.Application
    runtime: object
    services: object
    config: object
    admin_token: str
    channels: object
    nodes: object


@asynccontextmanager
async def assemble(settings: Settings, *, with_channels: bool = True) -> AsyncIterator[Daemon]:
    """Build the whole daemon; on exit, drain turns and close every resource."""
    from admin import dashboard as admin_dashboard
    from admin import editing as admin_editing
    from admin import listings as admin_listings
    from admin import routes as admin_routes
    from admin.auth import auth_middleware, load_or_create_token
    from admin.revisions import RevisionStore
    from agent.checkpoints import open_checkpointer
    from agent.graph import build_graph
    from agent.idle import idle_insights
    from agent.models import make_chat_model
    from agent.nodes import Nodes
    from agent.offline import OfflineChatModel
    from agent.runtime import AgentRuntime
    from channels.base import ChannelRegistry
    from channels.http_server import make_app
    from channels.web import WebChannel
    from config.store import ConfigStore
    from prompts import PromptStore
    from storage.catalog_import import import_catalog
    from storage.catalog_index import CatalogIndex
    from storage.db import Database
    from storage.repository import Repositories
    from tools.context import Services

    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    async with AsyncExitStack() as stack:
        config = ConfigStore(
            settings.effective_config_path,
            overrides={"timezone": settings.timezone or "", "language": settings.language or ""},
        )
        db = Database(settings.effective_database_url, pool_timeout_s=settings.db_pool_timeout_s)
        await db.start()
        stack.push_async_callback(db.close)
        repos = Repositories(db, config.current.business_id)
        prompts = PromptStore(settings.prompts_dir)

        catalog = CatalogIndex(data_dir / "chroma", synonyms_path=REPO_ROOT / "config" / "synonyms.yaml")
        await catalog.start()
        stack.push_async_callback(catalog.close)
        if settings.demo_catalog and await repos.products.count() == 0 and DEMO_CATALOG.exists():
            text = await asyncio.to_thread(DEMO_CATALOG.read_text, "utf-8")
            result = await import_catalog(repos.products, None, text, country=config.current.country)
            log.info("demo catalog loaded: %s products", result["imported"])
        stats = await catalog.sync(await repos.products.all())
        log.info("catalog index ready: %s", stats)

        services = Services(repos=repos, prompts=prompts, catalog=catalog)
        await _optional_services(settings, services, stack)

        offline = lambda: OfflineChatModel(prompts=prompts)  # noqa: E731
        llm = settings.llm
        model = make_chat_model(llm, offline_factory=offline, sdk_retries=False)
        fallback = offline() if llm.provider != "offline" and llm.fallback_offline else None
        if llm.provider != "offline":
            services.extra["insights_model"] = model
        log.info("chat model: %s", llm.provider)

        saver = await stack.enter_async_context(open_checkpointer(settings.effective_database_url, data_dir))
        nodes = Nodes(model, fallback, timeout_s=llm.timeout_s, attempts=llm.max_retries + 1,
                      turn_budget_s=llm.turn_budget_s, breaker=llm.breaker)
        graph = build_graph(nodes, saver)
        channels = ChannelRegistry()
        runtime = AgentRuntime(
            services=services, graph=graph, checkpointer=saver, config=config, channels=channels,
            turn_timeout_s=settings.turn_timeout_s, lock_timeout_s=settings.lock_timeout_s,
        )
        stack.push_async_callback(runtime.drain)

        token, created = load_or_create_token(
            settings.admin_token.get_secret_value() if settings.admin_token else None, data_dir
        )
        if created:
            print(f"Admin token (generated once, stored in {data_dir / 'admin_token'}): {token}", flush=True)

        app = make_app(middlewares=[auth_middleware(token)], body_timeout_s=settings.http_body_timeout_s)
        web_channel = WebChannel(runtime)
        web_channel.register(app)
        channels.add(web_channel)
        revisions = RevisionStore(db, repos.business_id)
        admin_routes.register(app, admin_routes.AdminDeps(
            repos=repos, catalog=catalog, runtime=runtime, config=config, prompts=prompts,
            revisions=revisions, settings=settings,
        ))
        admin_listings.register(app)
        admin_editing.register(app)
        admin_dashboard.register(app, token)
        idle = asyncio.create_task(idle_insights(runtime, config), name="idle-insights")
        stack.callback(idle.cancel)
        app.router.add_get("/healthz", _healthz(db))
        app.router.add_get("/metrics", _metrics)
        if with_channels:
            await _platform_channels(settings, app, runtime, channels, stack)
            # What was stored but never answered or sent (a crash, a kill) is taken up now, then periodically.
            sweeper = asyncio.create_task(
                runtime.sweep_forever(settings.sweep_interval_s, settings.sweep_grace_s), name="sweep"
            )
            stack.callback(sweeper.cancel)
        yield Daemon(settings, app, runtime, services, config, token, channels, nodes)


async def _optional_services(settings: Settings, services, stack: AsyncExitStack) -> None:
    """The calendar (Outlook when configured, else the built-in one) and the knowledge index."""
    from storage.knowledge_index import KnowledgeIndex
    from tools.calendars.builtin import BuiltinCalendar

    if settings.outlook is not None:
        from tools.calendars.outlook import OutlookCalendar

        outlook = OutlookCalendar(settings.outlook)
        stack.push_async_callback(outlook.close)
        services.calendar = outlook
    else:
        services.calendar = BuiltinCalendar(services.repos.db, services.repos.business_id)
    knowledge_dir = settings.effective_knowledge_dir
    if not knowledge_dir.exists() and EXAMPLE_KNOWLEDGE.exists():
        await asyncio.to_thread(shutil.copytree, EXAMPLE_KNOWLEDGE, knowledge_dir)
    knowledge_dir.mkdir(parents=True, exist_ok=True)
    services.knowledge = KnowledgeIndex(knowledge_dir, settings.data_dir / "chroma")
    await services.knowledge.start()
    await services.knowledge.sync()


async def _platform_channels(settings: Settings, app, runtime, channels, stack: AsyncExitStack) -> None:
    """Telegram and WhatsApp start only when their settings are present."""
    telegram, whatsapp = settings.telegram, settings.whatsapp
    if telegram is None and whatsapp is None:
        return
    media_dir = settings.data_dir / "media"
    transcriber = None
    llm = settings.llm
    if llm.transcription_model:
        from channels.transcription import Transcriber

        transcriber = Transcriber(
            llm.transcription_model,
            base_url=llm.openai_base_url,
            api_key=llm.openai_api_key.get_secret_value() if llm.openai_api_key else None,
        )
        stack.push_async_callback(transcriber.close)
    if telegram is not None:
        from channels.telegram import TelegramChannel

        tg = TelegramChannel(telegram, runtime, media_dir=media_dir, transcriber=transcriber)
        tg.register(app)
        channels.add(tg)
        await tg.start()
        stack.push_async_callback(tg.stop)
    if whatsapp is not None:
        from channels.whatsapp import WhatsAppChannel

        wa = WhatsAppChannel(
            whatsapp, runtime, media_dir=media_dir, transcriber=transcriber,
            templates=lambda: runtime.config.current.whatsapp,
        )
        wa.register(app)
        channels.add(wa)
        await wa.start()
        stack.push_async_callback(wa.stop)


def _healthz(db):
    from sqlalchemy import text

    async def handler(request: web.Request) -> web.Response:
        try:
            async with db.session() as s:
                await s.execute(text("SELECT 1"))
        except Exception as exc:  # readiness: the database must answer
            return web.json_response({"status": "unavailable", "database": type(exc).__name__}, status=503)
        return web.json_response({"status": "ok"})

    return handler


async def _metrics(request: web.Request) -> web.Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    body = await asyncio.to_thread(generate_latest)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


# -- commands -----------------------------------------------------------------------


def settle_heap() -> None:
    """Move everything built at start-up out of the garbage collector's way (`gc.freeze`).

    Start-up leaves ~260,000 long-lived objects (models, Chroma, the
    catalog); every full collection walked them all, a ~120 ms pause of
    every conversation. Frozen, collections only see what turns allocate.
    """
    gc.collect()
    gc.freeze()


async def serve(settings: Settings) -> None:
    from channels.http_server import serve_http

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with assemble(settings) as daemon:
        runner, site = await serve_http(daemon.app, settings.http_host, settings.http_port,
                                        header_timeout_s=settings.http_header_timeout_s)
        settle_heap()
        log.info("listening on http://%s:%s", settings.http_host, settings.http_port)
        print(f"Mostrador is running: web chat at http://{settings.http_host}:{settings.http_port}/", flush=True)
        await stop.wait()
        log.info("shutting down: draining in-flight turns")
        await site.stop()  # stop accepting; in-flight requests finish during drain
        await daemon.runtime.drain()
        await runner.cleanup()
    log.info("stopped cleanly")


async def chat(settings: Settings) -> None:
    from channels.cli import run_cli

    async with assemble(settings, with_channels=False) as daemon:
        await run_cli(daemon.runtime)


async def import_products(settings: Settings, path: Path) -> int:
    from rich.progress import BarColumn, Progress, TextColumn

    from storage.catalog_import import import_catalog

    text = await asyncio.to_thread(path.read_text, "utf-8-sig")
    settings = settings.model_copy(update={"demo_catalog": False})
    async with assemble(settings, with_channels=False) as daemon:
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}")) as bar:
            task = bar.add_task("importing", total=3)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, advance=1, description=f"{stage} ({total} rows)")

            result = await import_catalog(
                daemon.services.repos.products, daemon.services.catalog, text, progress=progress,
                country=daemon.config.current.country,
            )
    if result["errors"]:
        print(f"Nothing imported: {len(result['errors'])} error(s)", file=sys.stderr)
        for err in result["errors"][:50]:
            print(f"  row {err['row']}: {err['error']}", file=sys.stderr)
        return 1
    print(f"Imported {result['imported']} products ({result['reindexed']} re-indexed).")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot.py", description="Mostrador: a sales bot runtime for small businesses.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the daemon (the default)")
    sub.add_parser("chat", help="talk to the bot in the terminal")
    imp = sub.add_parser("import-products", help="import a CSV catalog: sku,name,description,category,price,stock")
    imp.add_argument("file", type=Path)
    ev = sub.add_parser("eval", help="play scripted conversations against a throwaway copy of the data")
    ev.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    from config.logging import setup_logging

    settings = Settings()
    setup_logging(settings.log_level)
    command = args.command or "serve"
    if command == "serve":
        asyncio.run(serve(settings))
        return 0
    if command == "chat":
        asyncio.run(chat(settings))
        return 0
    if command == "import-products":
        if not args.file.exists():
            print(f"no such file: {args.file}", file=sys.stderr)
            return 2
        return asyncio.run(import_products(settings, args.file))
    if command == "eval":
        from agent.evaluation import run_eval_command

        return asyncio.run(run_eval_command(settings, args.file))
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
