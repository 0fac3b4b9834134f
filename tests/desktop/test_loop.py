"""The desktop's event loop (desktop/loop.py): asyncio's scheduling rules on qasync's Qt integration.

Every test runs on the session's loop, the one the app ships (tests/desktop/conftest.py). Tests that close a
loop make their own and keep it referenced, so the garbage collector never meets its Qt objects mid-run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import statistics
import threading
import time
from asyncio.events import _get_running_loop

import pytest
import qasync
from PySide6.QtCore import QEventLoop as QtEventLoop
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication

from desktop.loop import LOOP_ENV, AsyncioQEventLoop, new_event_loop

# Loops made by a test and closed there; collected at exit rather than mid-run (see conftest's qloop).
_closed_loops: list[asyncio.AbstractEventLoop] = []


def run_until(qloop, predicate, timeout: float = 5.0) -> None:
    async def wait() -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.001)

    qloop.run_until_complete(wait())


def test_the_desktop_app_and_its_tests_run_on_the_asyncio_scheduling_loop(qloop, monkeypatch) -> None:
    assert type(qloop) is AsyncioQEventLoop
    monkeypatch.setenv(LOOP_ENV, "asyncio")
    loop = new_event_loop(QApplication.instance())
    _closed_loops.append(loop)
    loop.close()
    assert type(loop) is AsyncioQEventLoop


def test_the_qasync_diagnostic_setting_gives_qasyncs_own_loop(qloop, monkeypatch) -> None:
    monkeypatch.setenv(LOOP_ENV, "qasync")
    loop = new_event_loop(QApplication.instance())
    _closed_loops.append(loop)
    loop.close()
    assert type(loop) is qasync.QEventLoop


def test_call_soon_runs_callbacks_first_in_first_out(qloop) -> None:
    order: list[int] = []
    for index in range(200):
        qloop.call_soon(order.append, index)
    run_until(qloop, lambda: len(order) == 200)
    assert order == list(range(200))


def test_a_callback_scheduled_by_a_callback_runs_in_the_next_iteration(qloop) -> None:
    order: list[str] = []

    def first() -> None:
        order.append("first")
        qloop.call_soon(order.append, "scheduled by first")

    qloop.call_soon(first)
    qloop.call_soon(order.append, "second")
    run_until(qloop, lambda: len(order) == 3)
    assert order == ["first", "second", "scheduled by first"]


def test_call_later_runs_timers_in_order_of_their_time_not_of_scheduling(qloop) -> None:
    order: list[str] = []
    qloop.call_later(0.040, order.append, "40 ms")
    qloop.call_later(0.010, order.append, "10 ms")
    qloop.call_at(qloop.time() + 0.025, order.append, "25 ms")
    qloop.call_later(0, order.append, "now")
    run_until(qloop, lambda: len(order) == 4)
    assert order == ["now", "10 ms", "25 ms", "40 ms"]


def test_timers_fire_not_before_their_time_and_within_a_few_ms_after(qloop) -> None:
    lateness: list[float] = []

    def fired(when: float) -> None:
        lateness.append(qloop.time() - when)

    for delay in (0.003, 0.007, 0.012, 0.020, 0.031, 0.045, 0.060, 0.075, 0.090, 0.105):
        when = qloop.time() + delay
        qloop.call_at(when, fired, when)
    run_until(qloop, lambda: len(lateness) == 10)
    assert min(lateness) >= 0, f"a timer fired early: {lateness}"
    assert statistics.median(lateness) < 0.005, f"timers fired late (s): {lateness}"


def test_cancelled_timers_never_run(qloop) -> None:
    ran: list[str] = []
    cancelled = qloop.call_later(0.005, ran.append, "cancelled")
    qloop.call_later(0.010, ran.append, "kept")
    cancelled.cancel()
    run_until(qloop, lambda: "kept" in ran)
    qloop.run_until_complete(asyncio.sleep(0.02))
    assert ran == ["kept"]


def test_many_cancelled_timers_are_purged_from_the_heap_as_asyncio_does(qloop) -> None:
    # asyncio rebuilds its heap when it holds > 100 timers of which > half are cancelled; without that a
    # server's per-request timeouts (cancelled when the answer comes) would pile up until they are due.
    handles = [qloop.call_later(60 + index, lambda: None) for index in range(300)]
    for handle in handles[:250]:
        handle.cancel()
    qloop.run_until_complete(asyncio.sleep(0))
    on_heap = {id(handle) for handle in qloop._scheduled}
    assert not any(id(handle) in on_heap for handle in handles[:250])
    assert all(id(handle) in on_heap for handle in handles[250:])
    for handle in handles[250:]:
        handle.cancel()


def test_a_cancelled_timer_at_the_head_of_the_heap_is_dropped(qloop) -> None:
    head = qloop.call_later(0.001, lambda: None)
    later = qloop.call_later(30, lambda: None)
    head.cancel()
    qloop.run_until_complete(asyncio.sleep(0.01))
    on_heap = {id(handle) for handle in qloop._scheduled}
    assert id(head) not in on_heap and id(later) in on_heap
    later.cancel()


def test_an_exception_in_a_callback_goes_to_the_exception_handler_and_the_loop_runs_on(qloop) -> None:
    contexts: list[dict] = []
    ran: list[str] = []

    def broken() -> None:
        raise ValueError("boom")

    qloop.set_exception_handler(lambda loop, context: contexts.append(context))
    try:
        qloop.call_soon(broken)
        qloop.call_soon(ran.append, "after")
        qloop.call_later(0.005, broken)
        qloop.call_later(0.010, ran.append, "timer after")
        run_until(qloop, lambda: len(ran) == 2)
    finally:
        qloop.set_exception_handler(None)
    assert ran == ["after", "timer after"]
    assert [type(context["exception"]) for context in contexts] == [ValueError, ValueError]
    assert "broken" in repr(contexts[0]["handle"])


def test_the_default_exception_handler_logs_the_error(qloop, caplog) -> None:
    def broken() -> None:
        raise RuntimeError("logged, not lost")

    with caplog.at_level(logging.ERROR):
        qloop.call_soon(broken)
        qloop.run_until_complete(asyncio.sleep(0.01))
    assert any(record.exc_info and "logged, not lost" in str(record.exc_info[1]) for record in caplog.records)


def test_callbacks_see_the_loop_as_running_also_when_qt_delivers_the_timer_outside_run_forever(qloop, qtbot) -> None:
    seen: list[asyncio.AbstractEventLoop] = []
    qloop.call_soon(lambda: seen.append(asyncio.get_running_loop()))
    qtbot.waitUntil(lambda: bool(seen), timeout=2000)  # Qt's own event processing, no run_forever
    assert seen == [qloop]
    assert _get_running_loop() is None  # and it is not left set afterwards


def test_call_soon_threadsafe_from_a_thread_wakes_the_idle_loop(qloop) -> None:
    async def scenario() -> tuple[float, float]:
        future = qloop.create_future()
        called_at: list[float] = []
        handles: list[asyncio.Handle] = []

        def from_thread() -> None:
            time.sleep(0.05)
            called_at.append(time.monotonic())
            handles.append(qloop.call_soon_threadsafe(lambda: future.set_result(time.monotonic())))

        thread = threading.Thread(target=from_thread)
        thread.start()
        # Nothing else is due for 5 s: only the thread's wake-up can finish this in time.
        done_at = await asyncio.wait_for(future, 5)
        thread.join()
        assert isinstance(handles[0], asyncio.Handle)  # cancellable, as asyncio's is
        return called_at[0], done_at

    called, done = qloop.run_until_complete(scenario())
    assert done - called < 0.5


def test_call_soon_threadsafe_from_many_threads_runs_every_callback_once_in_each_threads_order(qloop) -> None:
    seen: dict[int, list[int]] = {worker: [] for worker in range(4)}

    def worker(number: int) -> None:
        for index in range(500):
            qloop.call_soon_threadsafe(seen[number].append, index)

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    run_until(qloop, lambda: all(len(values) == 500 for values in seen.values()))
    for thread in threads:
        thread.join()
    qloop.run_until_complete(asyncio.sleep(0.01))
    assert all(values == list(range(500)) for values in seen.values())


def test_executor_work_comes_back_to_the_loop(qloop) -> None:
    async def scenario() -> tuple[int, bool]:
        main = threading.get_ident()
        result = await asyncio.wait_for(qloop.run_in_executor(None, threading.get_ident), 5)
        return result, result != main

    _, other_thread = qloop.run_until_complete(scenario())
    assert other_thread


class Pinger(QObject):
    ping = Signal()


def test_qt_timers_and_queued_signals_fire_while_asyncio_is_busy(qloop) -> None:
    """The tray's timers and queued signals (what a thread's signal becomes) are served between asyncio
    iterations, not after the asyncio work runs out."""
    steps = 0
    qt_timer_fired_at_step: list[int] = []
    qt_timer_lateness: list[float] = []
    signal_seen_at_step: list[int] = []
    pinger = Pinger()
    pinger.ping.connect(lambda: signal_seen_at_step.append(steps), Qt.ConnectionType.QueuedConnection)

    async def busy() -> None:
        nonlocal steps
        for _ in range(150):  # ~2 ms of work per iteration, ~300 ms in all, never idle
            end = time.perf_counter() + 0.002
            while time.perf_counter() < end:
                pass
            steps += 1
            if steps == 20:
                pinger.ping.emit()  # queued: delivered by Qt's event processing, not called here
            await asyncio.sleep(0)

    armed = time.monotonic()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setSingleShot(True)
    timer.timeout.connect(lambda: (qt_timer_fired_at_step.append(steps),
                                   qt_timer_lateness.append(time.monotonic() - armed - 0.030)))

    async def scenario() -> None:
        timer.start(30)
        await busy()

    qloop.run_until_complete(scenario())
    assert qt_timer_fired_at_step and qt_timer_fired_at_step[0] < 150, "the Qt timer waited for asyncio to idle"
    assert qt_timer_lateness[0] < 0.020
    assert signal_seen_at_step and signal_seen_at_step[0] < 25, "the queued signal waited for asyncio to idle"


def test_callbacks_queued_behind_one_that_spins_a_nested_qt_loop_run_inside_it(qloop) -> None:
    """A coroutine that opens a modal dialog (exec() spins a nested Qt loop) must not hold up the rest."""
    order: list[str] = []

    def modal() -> None:
        nested = QtEventLoop()
        QTimer.singleShot(100, nested.quit)
        nested.exec()
        order.append("modal closed")

    qloop.call_soon(modal)
    qloop.call_soon(order.append, "queued behind it")
    run_until(qloop, lambda: "modal closed" in order)
    assert order == ["queued behind it", "modal closed"]


def test_socket_io_through_the_loop_with_a_real_loopback_server(qloop) -> None:
    payload = os.urandom(2 * 1024 * 1024)  # more than the socket buffers hold: writes wait for the reader

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def scenario() -> bytes:
        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)

            async def send() -> None:
                writer.write(payload)
                await writer.drain()
                writer.write_eof()

            sender = asyncio.ensure_future(send())
            received = await asyncio.wait_for(reader.read(-1), 20)
            await sender
            writer.close()
            await writer.wait_closed()
            return received
        finally:
            server.close()
            await server.wait_closed()

    assert qloop.run_until_complete(scenario()) == payload


def test_run_until_complete_returns_what_a_coroutine_of_sleeps_returns(qloop) -> None:
    async def sleeper() -> str:
        for delay in (0.01, 0.02, 0.0, 0.03):
            await asyncio.sleep(delay)
        return "done"

    started = time.monotonic()
    assert qloop.run_until_complete(sleeper()) == "done"
    assert time.monotonic() - started >= 0.06
    assert not qloop.is_running()


def test_stop_ends_run_forever(qloop) -> None:
    ran: list[str] = []
    qloop.call_soon(ran.append, "before stop")
    qloop.call_later(0.02, qloop.stop)
    started = time.monotonic()
    qloop.run_forever()
    assert ran == ["before stop"]
    assert not qloop.is_running()
    assert time.monotonic() - started < 2


def test_a_closed_loop_runs_nothing_more_and_refuses_new_work(qloop, qtbot) -> None:
    loop = AsyncioQEventLoop(QApplication.instance())
    _closed_loops.append(loop)
    ran: list[str] = []
    loop.call_soon(ran.append, "soon")
    loop.call_later(0.01, ran.append, "later")
    loop.close()
    qtbot.wait(50)  # Qt keeps processing events; nothing of the closed loop fires
    assert ran == []
    assert loop.is_closed()
    with pytest.raises(RuntimeError, match="closed"):
        loop.call_soon(ran.append, "after close")
    with pytest.raises(RuntimeError, match="closed"):
        loop.call_soon_threadsafe(ran.append, "after close")


def test_a_running_loop_cannot_be_closed(qloop) -> None:
    async def close_while_running() -> None:
        qloop.close()

    with pytest.raises(RuntimeError, match="running"):
        qloop.run_until_complete(close_while_running())
    assert not qloop.is_closed()


def test_a_signal_handler_added_to_the_loop_runs_on_the_loop(qloop) -> None:
    received: list[asyncio.AbstractEventLoop] = []
    qloop.add_signal_handler(signal.SIGUSR1, lambda: received.append(asyncio.get_running_loop()))
    try:
        os.kill(os.getpid(), signal.SIGUSR1)
        run_until(qloop, lambda: bool(received))
    finally:
        qloop.remove_signal_handler(signal.SIGUSR1)
    assert received == [qloop]


def test_debug_mode_warns_about_a_slow_callback(qloop, caplog) -> None:
    qloop.set_debug(True)
    qloop.slow_callback_duration = 0.05
    try:
        with caplog.at_level(logging.WARNING, logger="asyncio"):
            qloop.call_soon(time.sleep, 0.08)
            qloop.run_until_complete(asyncio.sleep(0.01))
    finally:
        qloop.set_debug(False)
        qloop.slow_callback_duration = 0.1
    assert any("took" in record.getMessage() and "sleep" in record.getMessage() for record in caplog.records)
