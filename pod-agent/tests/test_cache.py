"""The cache volume (issue 28, cache.py and install.py): filled once and whole, shared by concurrent pods, LRU-evicted;
and the agent as a process: a cold run fills it, a warm one installs and downloads nothing."""

import contextlib
import json
import multiprocessing
import os
import sys
import time
import types

import pytest
from test_main import run_agent

from trainpod_agent.cache import (
    COMPLETE,
    CacheSettings,
    cache_settings,
    evict_models,
    fill_once,
    hold_shared,
    inside_cache,
    mark_used,
    model_folder,
    model_lock_name,
    packages_key,
    read_marker,
)
from trainpod_agent.install import ModelRefused, image_identity, prepare


def _fill_slowly(args):
    root, entry, out = args

    def fill(tmp):
        with open(os.path.join(tmp, "part-1"), "w") as f:
            f.write("x" * 1000)
        time.sleep(0.3)  # a second pod arrives while this one fills
        with open(os.path.join(tmp, "part-2"), "w") as f:
            f.write("y" * 1000)
        return {"by": os.getpid()}

    hit, marker = fill_once(root, entry, "k", fill)
    with open(out, "w") as f:
        json.dump({"hit": hit, "by": marker["by"], "files": sorted(os.listdir(entry))}, f)


USER_A, USER_B = "a" * 16, "b" * 16


def test_the_env_names_the_volume_and_the_simulator_its_folder():
    assert cache_settings({}) is None
    s = cache_settings({"TRAINPOD_CACHE_DIR": "/trainpod-cache", "TRAINPOD_CACHE_MAX_BYTES": "1000",
                        "TRAINPOD_CACHE_SCOPE": "shared"})
    assert s == CacheSettings(root="/trainpod-cache", max_bytes=1000)
    sim = cache_settings({"TRAINPOD_CACHE_DIR": "/trainpod-cache", "SIM_NETWORK_VOLUME_DIR": "/tmp/vol",
                          "TRAINPOD_CACHE_SCOPE": "shared"})
    assert sim is not None and sim.root == "/tmp/vol" and sim.hf_home == "/tmp/vol/hf"


def test_only_a_shared_scope_uses_the_shared_hf_home_and_anything_else_is_the_users_own_or_none():
    vol = {"TRAINPOD_CACHE_DIR": "/trainpod-cache"}
    hf = lambda env: cache_settings({**vol, **env}).hf_home  # noqa: E731
    assert hf({"TRAINPOD_CACHE_SCOPE": "shared", "TRAINPOD_CACHE_USER": USER_A}) == "/trainpod-cache/hf"
    assert hf({"TRAINPOD_CACHE_SCOPE": "user", "TRAINPOD_CACHE_USER": USER_A}) == "/trainpod-cache/users/%s/hf" % USER_A
    assert hf({"TRAINPOD_CACHE_USER": USER_B}) == "/trainpod-cache/users/%s/hf" % USER_B  # no scope: per user
    # fail closed: no scope and no key (an older API), or a key that is no hash: not cached on the volume at all
    assert hf({}) is None
    assert hf({"TRAINPOD_CACHE_SCOPE": "user"}) is None
    assert hf({"TRAINPOD_CACHE_SCOPE": "user", "TRAINPOD_CACHE_USER": "../" + USER_A}) is None
    assert hf({"TRAINPOD_CACHE_SCOPE": "SHARED", "TRAINPOD_CACHE_USER": USER_A}).endswith("/users/%s/hf" % USER_A)


def test_the_packages_key_is_the_pins_and_the_images_torch_and_python():
    a = packages_key("trl==1 peft==2", "2.8.0", "3.12.1")
    assert a == packages_key("peft==2 trl==1", "2.8.0", "3.12.1")  # order of the pins does not matter
    assert a != packages_key("trl==1 peft==3", "2.8.0", "3.12.1")
    assert a != packages_key("trl==1 peft==2", "2.9.0", "3.12.1")
    assert a != packages_key("trl==1 peft==2", "2.8.0", "3.11.9")


def test_the_packages_key_is_the_image_too_its_interpreter_and_its_installed_packages():
    key = lambda interpreter, listed: packages_key("trl==1", "2.8.0", "3.12.1", interpreter, listed)  # noqa: E731
    assert key("/usr/bin/python3.12", "h1") != key("/opt/conda/bin/python3.12", "h1")
    assert key("/usr/bin/python3.12", "h1") != key("/usr/bin/python3.12", "h2")
    interpreter, listed = image_identity()
    assert interpreter == os.path.realpath(sys.executable) and len(listed) == 16
    assert image_identity() == (interpreter, listed)  # stable for one image


class _Events:
    def phase(self, *_a, **_k):
        return contextlib.nullcontext(types.SimpleNamespace(note=lambda **_k: None, advance=lambda _n: None))


def _prepare(env, model="org/model"):
    lines = []
    prepared = prepare(True, "{}", model, _Events(), None, lines.append, env=env)
    prepared.close()
    return prepared, lines


def test_prepare_gives_the_trainer_the_scope_s_hf_home(tmp_path):
    vol = {"TRAINPOD_CACHE_DIR": "/trainpod-cache", "SIM_NETWORK_VOLUME_DIR": str(tmp_path)}
    shared, _ = _prepare({**vol, "TRAINPOD_CACHE_SCOPE": "shared", "TRAINPOD_CACHE_USER": USER_A})
    assert shared.env == {"HF_HOME": str(tmp_path / "hf")}
    mine, _ = _prepare({**vol, "TRAINPOD_CACHE_SCOPE": "user", "TRAINPOD_CACHE_USER": USER_A})
    assert mine.env == {"HF_HOME": str(tmp_path / "users" / USER_A / "hf")}
    unscoped, lines = _prepare(vol)
    assert unscoped.env == {} and any("not cached on the volume" in line for line in lines)


def test_a_base_model_on_the_cache_volume_is_refused_on_the_pod(tmp_path):
    vol = {"TRAINPOD_CACHE_DIR": str(tmp_path / "mnt"), "SIM_NETWORK_VOLUME_DIR": str(tmp_path / "vol"),
           "TRAINPOD_CACHE_SCOPE": "user", "TRAINPOD_CACHE_USER": USER_B}
    snapshot = tmp_path / "vol" / "hf" / "hub" / "models--meta-llama--gated" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    link = tmp_path / "elsewhere"
    link.symlink_to(snapshot)
    for model in (str(snapshot), str(tmp_path / "mnt" / "hf" / "hub"), str(link), str(tmp_path / "vol")):
        with pytest.raises(ModelRefused, match="on the cache volume"):
            _prepare(vol, model)
    assert inside_cache(str(tmp_path / "vol2" / "x"), vol) is False  # a sibling folder is not the volume
    own = tmp_path / "models" / "mine"
    own.mkdir(parents=True)
    assert _prepare(vol, str(own))[0].env["HF_HOME"].endswith("/users/%s/hf" % USER_B)


def test_two_pods_filling_one_entry_at_once_fill_it_once_and_both_see_it_whole(tmp_path):
    entry = str(tmp_path / "packages" / "key")
    outs = [str(tmp_path / ("out-%d.json" % i)) for i in range(2)]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_fill_slowly, args=((str(tmp_path), entry, o),)) for o in outs]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    answers = [json.load(open(o)) for o in outs]
    assert sorted(a["hit"] for a in answers) == [False, True]  # one filled it, the other waited and used it
    assert answers[0]["by"] == answers[1]["by"]
    for a in answers:
        assert a["files"] == sorted([COMPLETE, "part-1", "part-2"])
    leftovers = [n for n in os.listdir(tmp_path / "packages") if ".tmp-" in n]
    assert leftovers == []


def test_a_failed_fill_leaves_no_entry_and_the_next_pod_fills_it(tmp_path):
    entry = str(tmp_path / "e")

    def broken(tmp):
        open(os.path.join(tmp, "half"), "w").close()
        raise RuntimeError("pod killed mid-download")

    try:
        fill_once(str(tmp_path), entry, "e", broken)
    except RuntimeError:
        pass
    assert not os.path.exists(entry) and read_marker(entry) is None
    hit, marker = fill_once(str(tmp_path), entry, "e", lambda tmp: {"ok": 1})
    assert (hit, marker) == (False, {"ok": 1})


def _model(settings, name, size, used_at):
    folder = model_folder(settings, name)
    fill_once(settings.root, folder, "fill-" + settings.model_lock(name), lambda tmp: {"bytes": size})
    mark_used(folder, used_at)
    return folder


def test_past_the_limit_the_least_recently_used_models_go_but_not_one_in_use(tmp_path):
    s = CacheSettings(root=str(tmp_path), max_bytes=250)
    old = _model(s, "org/old", 100, 1000)
    held = _model(s, "org/held", 100, 2000)
    recent = _model(s, "org/recent", 100, 3000)
    current = _model(s, "org/current", 100, 4000)
    lock = hold_shared(s.root, model_lock_name("org/held"))  # another pod trains on it now
    try:
        lines = []
        evicted = evict_models(s, keep=current, log=lines.append)
    finally:
        lock.close()
    assert evicted == 200
    assert not os.path.exists(old) and os.path.exists(held)
    assert not os.path.exists(recent) and os.path.exists(current)
    assert any("evicted org/old" in line for line in lines)


def test_eviction_counts_and_frees_every_users_model_cache_too(tmp_path):
    shared = CacheSettings(root=str(tmp_path), max_bytes=150)
    alice = CacheSettings(root=str(tmp_path), max_bytes=150, user=USER_A)
    old = _model(alice, "org/gated", 100, 1000)  # alice's copy, least recently used
    current = _model(shared, "org/open", 100, 2000)
    assert evict_models(shared, keep=current, log=lambda _l: None) == 100
    assert not os.path.exists(old) and os.path.exists(current)


def test_under_the_limit_nothing_is_evicted(tmp_path):
    s = CacheSettings(root=str(tmp_path), max_bytes=1000)
    a = _model(s, "org/a", 100, 1000)
    assert evict_models(s, keep="", log=lambda _l: None) == 0 and os.path.exists(a)


def _phase_end(api, name):
    return next(e for e in api.events() if e["type"] == "phase" and e["phase"] == name and e["state"] == "ended")


def test_a_cold_run_fills_the_volume_and_a_warm_one_installs_and_downloads_nothing(api, tmp_path):
    volume = tmp_path / "volume"
    env = {"TRAINPOD_CACHE_DIR": "/trainpod-cache", "SIM_NETWORK_VOLUME_DIR": str(volume),
           "TRAINPOD_TRAINER_REQUIREMENTS": "trl==1.16.0 peft==0.21.2", "TRAINPOD_CACHE_SCOPE": "shared"}
    hp = {"steps": 2, "sim_step_ms": 1, "sim_packages_bytes": 400_000, "sim_install_bytes_per_s": 1_000_000,
          "sim_model_bytes": 600_000, "sim_download_bytes_per_s": 1_000_000}
    code, output = run_agent(api, tmp_path / "pod1", hp, env)
    assert code == 0, output
    cold_install, cold_download = _phase_end(api, "install"), _phase_end(api, "model_download")
    assert cold_install["cache_hit"] == 0 and cold_install["seconds"] >= 0.4
    assert cold_download["cache_hit"] == 0 and cold_download["seconds"] >= 0.6
    assert os.path.exists(volume / "hf" / "hub" / "models--org--model" / COMPLETE)
    api.seen.clear()
    code, output = run_agent(api, tmp_path / "pod2", hp, env)
    assert code == 0, output
    warm_install, warm_download = _phase_end(api, "install"), _phase_end(api, "model_download")
    assert warm_install["cache_hit"] == 1 and warm_download["cache_hit"] == 1
    # nothing transferred, nothing installed (facts, not timings: the cold run's seconds above are the sleeps' floor)
    assert cold_download["bytes"] == 600_000 and warm_download["bytes"] == 0
    assert "nothing to install" in output or any(
        "nothing to install" in line for e in api.events() if e["type"] == "log" for line in e["lines"])
    assert "is on the cache volume: no download" in output or any(
        "no download" in line for e in api.events() if e["type"] == "log" for line in e["lines"])


def test_without_a_volume_every_run_pays_the_simulated_install(api, tmp_path):
    hp = {"steps": 1, "sim_step_ms": 1, "sim_packages_bytes": 300_000, "sim_install_bytes_per_s": 1_000_000}
    code, output = run_agent(api, tmp_path, hp)
    assert code == 0, output
    install = _phase_end(api, "install")
    assert install["cache_hit"] == 0 and install["seconds"] >= 0.3


def test_a_gated_model_cached_for_one_user_never_serves_another(api, tmp_path):
    volume = tmp_path / "volume"
    hp = {"steps": 1, "sim_step_ms": 1, "sim_model_bytes": 1000, "sim_download_bytes_per_s": 1_000_000}
    env = lambda user: {"TRAINPOD_CACHE_DIR": "/trainpod-cache", "SIM_NETWORK_VOLUME_DIR": str(volume),  # noqa: E731
                        "TRAINPOD_CACHE_SCOPE": "user", "TRAINPOD_CACHE_USER": user,
                        "TRAINPOD_BASE_MODEL": "meta-llama/gated"}
    hits = []
    for i, user in enumerate((USER_A, USER_B, USER_A)):
        api.seen.clear()
        code, output = run_agent(api, tmp_path / ("pod%d" % i), hp, env(user))
        assert code == 0, output
        hits.append(_phase_end(api, "model_download")["cache_hit"])
    assert hits == [0, 0, 1]  # B downloads its own; A's second run uses A's
    assert os.path.exists(volume / "users" / USER_A / "hf" / "hub" / "models--meta-llama--gated" / COMPLETE)
    assert not os.path.exists(volume / "hf" / "hub" / "models--meta-llama--gated")


def test_the_agent_fails_a_run_whose_base_model_is_a_folder_on_the_cache_volume(api, tmp_path):
    volume = tmp_path / "volume"
    snapshot = volume / "hf" / "hub" / "models--meta-llama--gated" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    env = {"TRAINPOD_CACHE_DIR": "/trainpod-cache", "SIM_NETWORK_VOLUME_DIR": str(volume),
           "TRAINPOD_CACHE_SCOPE": "user", "TRAINPOD_CACHE_USER": USER_B, "TRAINPOD_BASE_MODEL": str(snapshot)}
    code, output = run_agent(api, tmp_path / "pod", {"steps": 1, "sim_step_ms": 1}, env)
    failed = next(e for e in api.events() if e["type"] == "failed")
    assert code == 4 and failed["cause"] == "model_access" and failed["phase"] == "model_download", output
    assert "on the cache volume" in failed["message"]
