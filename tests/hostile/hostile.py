#!/usr/bin/env python3
"""Hostile inputs against the logq binary, one CTest per class (issue 17).

Each case generates its inputs (nothing large is committed), runs logq under a 4 GiB
address-space limit and a 60 s timeout, and checks the outcome: exit code 1 with a message that
names the file and the cause (or, where the input is legal but costly, success within the
bounds). A signal, a timeout, "bad_alloc" or an unnamed file fails the case.

    hostile.py --logq build/cli/logq --case NAME     one class (see CASES at the bottom)
    hostile.py --logq build/cli/logq --list          the class names
"""
import argparse
import gzip
import json
import os
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

ADDRESS_SPACE = 4 << 30
TIMEOUT_S = 60
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Runner:
    def __init__(self, logq, tmp):
        self.logq, self.tmp, self.failures, self.checks = logq, tmp, [], 0

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, data):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return p

    def has_torch(self):
        """Whether this logq has the LibTorch commands (eval, train, quantize)."""
        if not hasattr(self, "_torch"):
            self._torch = "quantize" in subprocess.run([self.logq, "--help"], capture_output=True, text=True).stdout
        return self._torch

    def skipped(self, label, args):
        cmd = next((a for a in args if not a.startswith("-")), "")
        if cmd in ("eval", "train", "quantize", "export") and not self.has_torch():
            print(f"  skip {label}: this logq was built without LibTorch")
            return True
        return False

    def run(self, args, env_extra=None):
        def limit():
            # An ASan build reserves terabytes of shadow address space: there the sanitizer's own
            # hard_rss_limit_mb (scripts/sanitize.sh) bounds memory instead.
            if not os.environ.get("LOGQ_HOSTILE_NO_AS_LIMIT"):
                resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
        env = dict(os.environ, **(env_extra or {}))
        t0 = time.monotonic()
        try:
            p = subprocess.run([self.logq] + args, capture_output=True, timeout=TIMEOUT_S, preexec_fn=limit,
                               env=env, cwd=self.tmp)
            rc, out, err = p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        except subprocess.TimeoutExpired:
            rc, out, err = "timeout", "", ""
        return rc, out, err, time.monotonic() - t0

    def fail(self, what):
        self.failures.append(what)
        print("  FAIL " + what)

    def expect_error(self, label, args, file, *causes, env_extra=None):
        """Exit code 1, stderr names `file` and every `cause` fragment, and nothing worse."""
        if self.skipped(label, args):
            return ""
        self.checks += 1
        rc, out, err, secs = self.run(args, env_extra)
        text = out + err
        problems = []
        if rc != 1:
            problems.append(f"exit {rc} (signal {-rc})" if isinstance(rc, int) and rc < 0 else f"exit {rc}")
        if "bad_alloc" in text:
            problems.append("printed bad_alloc")
        if file and file not in err:
            problems.append(f"message does not name {file}")
        for c in causes:
            if c not in err:
                problems.append(f"message lacks '{c}'")
        self.report(label, args, problems, secs, err, err.strip().splitlines()[-1][:160] if err.strip() else "")
        return err

    def expect_ok(self, label, args, *fragments, max_seconds=TIMEOUT_S):
        if self.skipped(label, args):
            return ""
        self.checks += 1
        rc, out, err, secs = self.run(args)
        problems = [f"exit {rc}"] if rc != 0 else []
        problems += [f"output lacks '{f}'" for f in fragments if f not in out + err]
        if secs > max_seconds:
            problems.append(f"took {secs:.1f} s (> {max_seconds})")
        self.report(label, args, problems, secs, err, "")
        return out

    def report(self, label, args, problems, secs, err, note):
        if problems:
            self.fail(f"{label}: {'; '.join(problems)}\n    logq {' '.join(args)}\n    stderr: {err.strip()[:600]}")
        else:
            print(f"  ok   {label} ({secs:.2f} s){': ' + note if note else ''}")


# ---- file builders ------------------------------------------------------------------------------

def central_entry(name, method, crc, comp_len, size, off):
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, comp_len, size,
                       len(name), 0, 0, 0, 0, 0, off) + name


def finish_zip(out, central):
    """Appends the central directory and its end record to the local entries in `out`."""
    cd_off = len(out)
    for c in central:
        out += c
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(out) - cd_off, cd_off, 0)
    return bytes(out)


def zip_archive(entries, extra_central=None):
    """entries: (name, data, method, overrides) -> zip bytes. overrides may set 'size' (the
    recorded inflated size) or 'local' (reuse another entry's local header index)."""
    out, central, locals_ = bytearray(), [], []
    for name, data, method, ov in entries:
        nb = name.encode()
        comp = data if method == 0 else zlib.compressobj(6, zlib.DEFLATED, -15).compress(data) + b""
        if method == 8:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            comp = c.compress(data) + c.flush()
        crc = zlib.crc32(data) & 0xFFFFFFFF
        size = ov.get("size", len(data))
        if "local" in ov:
            off, comp_len, crc, size = locals_[ov["local"]]
        else:
            off = len(out)
            out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(comp), size, len(nb), 0) + nb + comp
            comp_len = len(comp)
        locals_.append((off, comp_len, crc, size))
        central.append(central_entry(nb, method, crc, comp_len, size, off))
    return finish_zip(out, central)


def overlapping_zip(pkl, n):
    """data.pkl, then n stored entries archive/data/0..n-1 where entry k's data holds the local
    header and data of entry k + 1 (all central-directory fields honest)."""
    payload = f32(1, 2, 3, 4)
    names = [f"archive/data/{k}".encode() for k in range(n)]
    # innermost first: the data of entry k is local(k + 1) + data(k + 1)
    data = [None] * n
    data[n - 1] = payload
    for k in range(n - 2, -1, -1):
        nb = names[k + 1]
        d = data[k + 1]
        data[k] = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, zlib.crc32(d), len(d), len(d), len(nb), 0) + nb + d
    out = bytearray()
    central = []
    def local(name, d):
        off = len(out)
        out.extend(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, zlib.crc32(d), len(d), len(d), len(name), 0) + name + d)
        return off
    offs = [local(b"archive/data.pkl", pkl)]
    offs.append(local(names[0], data[0]))
    for k in range(1, n):
        offs.append(offs[-1] + 30 + len(names[k - 1]))
    for name, d, off in zip([b"archive/data.pkl"] + names, [pkl] + data, offs):
        central.append(central_entry(name, 0, zlib.crc32(d), len(d), len(d), off))
    return finish_zip(out, central)


class Pickle:
    """Pickle opcodes, enough for torch checkpoints and for hostile streams."""
    def __init__(self):
        self.b = bytearray(b"\x80\x02")

    def op(self, c, payload=b""):
        self.b += (bytes([c]) if isinstance(c, int) else c.encode()) + payload
        return self

    def glob(self, module, name):
        return self.op("c", f"{module}\n{name}\n".encode())

    def s(self, text):
        t = text.encode()
        return self.op("X", struct.pack("<I", len(t)) + t)

    def i(self, v):
        return self.op("J", struct.pack("<i", v))

    def put(self, k):
        return self.op("q", bytes([k]))

    def get(self, k):
        return self.op("h", bytes([k]))

    def bytes(self):
        return bytes(self.b) + b"."


def torch_zip(pkl, storages=(), dupe_pkl=None):
    entries = [("archive/data.pkl", pkl, 0, {})]
    if dupe_pkl is not None:
        entries.append(("archive/data.pkl", dupe_pkl, 0, {}))
    entries += [(f"archive/data/{k}", v, 0, {}) for k, v in storages]
    return zip_archive(entries)


def state_dict_pickle(tensors):
    """{'name': tensor} with tensors (name, key, numel, shape, stride) over float storages."""
    p = Pickle().op("}").op("(")
    for name, key, numel, shape, stride in tensors:
        p.s(name).glob("torch._utils", "_rebuild_tensor_v2").op("(")
        p.op("(").s("storage").glob("torch", "FloatStorage").s(key).s("cpu").i(numel).op("t").op("Q")
        p.i(0).op("(")
        for d in shape:
            p.op(0x8a, bytes([8]) + struct.pack("<q", d))
        p.op("t").op("(")
        for d in stride:
            p.op(0x8a, bytes([8]) + struct.pack("<q", d))
        p.op("t").op(0x89).glob("collections", "OrderedDict").op(")").op("R").op("t").op("R")
    return p.op("u").bytes()


def safetensors(entries, metadata=None, header_override=None, data=b""):
    if header_override is not None:
        h = header_override.encode() if isinstance(header_override, str) else header_override
    else:
        hdr = {}
        if metadata:
            hdr["__metadata__"] = metadata
        off = 0
        blob = bytearray()
        for name, dtype, shape, raw in entries:
            hdr[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
            off += len(raw)
            blob += raw
        h, data = json.dumps(hdr).encode(), bytes(blob)
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def f32(*v):
    return struct.pack(f"<{len(v)}f", *v)


def i32(*v):
    return struct.pack(f"<{len(v)}i", *v)


def u8(*v):
    return bytes(v)


def lqm(graph, tensors, version="1.0"):
    return safetensors(tensors, {"format": "logq.lqm", "lqm_version": version, "producer": "hostile.py",
                                 "graph": json.dumps(graph)})


def small_model():
    """A valid .lqm: [1, 4, 4] image -> 3x3 conv (2 filters, U4 x U8) -> flatten -> linear 32 -> 3."""
    tensors = [
        ("conv.w.codes", "U8", [2, 1, 3, 3], u8(*[k % 16 for k in range(18)])),
        ("conv.w.scale", "F32", [2], f32(0.1, 0.2)),
        ("conv.w.zero_point", "I32", [2], i32(8, 8)),
        ("conv.x.scale", "F32", [1], f32(0.02)),
        ("conv.x.zero_point", "I32", [1], i32(128)),
        ("fc.w.codes", "U8", [3, 32], u8(*[(i * 7) % 16 for i in range(96)])),
        ("fc.w.scale", "F32", [3], f32(0.1, 0.1, 0.1)),
        ("fc.w.zero_point", "I32", [3], i32(8, 8, 8)),
        ("fc.x.scale", "F32", [1], f32(0.05)),
        ("fc.x.zero_point", "I32", [1], i32(128)),
    ]
    u = lambda p, bits: {"format": "U", "bits": bits, "scale": p + ".scale", "zero_point": p + ".zero_point"}
    graph = {
        "model": {"name": "hostile", "family": "resnet", "method": "uniform", "input_shape": [1, 4, 4],
                  "preprocess": {"in_chans": 1, "img_size": 4, "crop_pct": 1.0, "interpolation": "bilinear",
                                 "mean": [0.5], "std": [0.5]}},
        "inputs": ["image"], "outputs": ["logits"],
        "layers": [
            {"name": "conv", "op": "conv2d", "inputs": ["image"], "outputs": ["c"],
             "attrs": {"in_channels": 1, "input_hw": [4, 4], "kernel": [3, 3], "stride": 1, "padding": 1, "dilation": 1, "groups": 1},
             "operands": {"w": dict(u("conv.w", 4), granularity="row", codes="conv.w.codes"), "x": u("conv.x", 8)}},
            {"name": "flat", "op": "flatten", "inputs": ["c"], "outputs": ["f"]},
            {"name": "fc", "op": "linear", "inputs": ["f"], "outputs": ["logits"],
             "operands": {"w": dict(u("fc.w", 4), granularity="row", codes="fc.w.codes"), "x": u("fc.x", 8)}},
        ],
    }
    return graph, tensors


def jpeg_header(width, height):
    """A baseline JPEG whose header (SOI, DQT, SOF0, DHT, SOS) claims width x height."""
    seg = lambda marker, body: bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body
    dqt = seg(0xDB, bytes([0]) + bytes([1] * 64))
    sof = seg(0xC0, struct.pack(">BHHB", 8, height, width, 1) + bytes([1, 0x11, 0]))
    huff = bytes([1] + [0] * 15) + bytes([0])  # one code of length 1 -> symbol 0
    dht = seg(0xC4, bytes([0x00]) + huff) + seg(0xC4, bytes([0x10]) + huff)
    sos = seg(0xDA, bytes([1, 1, 0x00, 0, 63, 0]))
    return b"\xFF\xD8" + dqt + sof + dht + sos + b"\x00" * 64 + b"\xFF\xD9"


# ---- the classes of issue 17 ----------------------------------------------------------------------

def case_pickle_recursion(r):
    """1. _rebuild_from_type_v2 nested in its own arguments 50,000 deep (zip and legacy)."""
    p = Pickle().glob("torch._tensor", "_rebuild_from_type_v2").put(0).op("0").glob("torch", "Tensor").put(1).op("0")
    p.get(0)
    depth = 50_000
    p.b += b"(h\x00h\x01" * depth + b")" + b"t" * depth
    p.op("R")
    path = r.write("nested.pt", torch_zip(p.bytes()))
    for cmd in (["inspect", path], ["eval", "--model", "fmnist_resnet", "--checkpoint", path, "--data", "/nonexistent"]):
        r.expect_error(f"{cmd[0]} on a 50,000-deep nested call", cmd, path, "nested more than 256 deep")
    # the same nesting one dict level deep, in the legacy stream format
    magic = bytes([0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19])
    legacy = b"\x80\x02\x8a\x0a" + magic + b"." + b"\x80\x02M\xe9\x03." + b"\x80\x02}." + p.bytes()
    lpath = r.write("nested_legacy.pt", legacy)
    r.expect_error("inspect on a nested call in a legacy stream", ["inspect", lpath], lpath, "nested more than 256 deep")


def case_lqm_validation(r):
    """2. .lqm files whose ops, preprocess, version or size cannot be run."""
    graph, tensors = small_model()
    base = r.write("base.lqm", lqm(graph, tensors))
    r.expect_ok("the unmodified model is valid", ["inspect", base], "lqm")
    r.expect_ok("and golden runs it", ["golden", base, "--no-eval"], "hostile")

    def variant(name, edit, version="1.0", extra_tensors=()):
        g = json.loads(json.dumps(graph))
        edit(g)
        return r.write(name, lqm(g, tensors + list(extra_tensors), version))

    conv = lambda g: g["layers"][0]["attrs"]

    def cut_before_fc(g):  # a slice leaves 30 of the 32 values the linear layer takes
        g["layers"].insert(2, {"name": "cut", "op": "slice", "inputs": ["f"], "outputs": ["f2"], "attrs": {"dim": 0, "start": 0, "end": 30}})
        g["layers"][3]["inputs"] = ["f2"]
    cases = [
        ("stride0.lqm", lambda g: conv(g).update(stride=0), "attr 'stride' = 0"),
        ("pad_neg.lqm", lambda g: conv(g).update(padding=-1), "attr 'padding' = -1"),
        ("dilation0.lqm", lambda g: conv(g).update(dilation=0), "attr 'dilation' = 0"),
        ("groups3.lqm", lambda g: conv(g).update(groups=3), "groups = 3 must divide"),
        ("kernel_big.lqm", lambda g: conv(g).update(kernel=[9, 9]), "does not match weight rows"),
        ("chans.lqm", lambda g: g["model"]["preprocess"].update(in_chans=3), "preprocess makes [3, 4, 4] images"),
        ("img_size.lqm", lambda g: g["model"]["preprocess"].update(img_size=64), "preprocess makes [1, 64, 64] images"),
        ("mean_empty.lqm", lambda g: g["model"]["preprocess"].update(mean=[], std=[]), "must hold 1 numbers"),
        ("std_zero.lqm", lambda g: g["model"]["preprocess"].update(std=[0]), "preprocess.std holds 0"),
        ("crop.lqm", lambda g: g["model"]["preprocess"].update(crop_pct=1e-9), "crop_pct"),
        ("input_shape.lqm", lambda g: g["model"].update(input_shape=[1, 4, 5]), "preprocess makes [1, 4, 4] images"),
        ("chain.lqm", cut_before_fc, "input [30] does not end in 32"),
    ]
    for name, edit, cause in cases:
        path = variant(name, edit)
        for cmd in ("inspect", "golden", "verify", "sim"):
            args = [cmd, path] + (["--hw", r.hw] if cmd == "sim" else []) + (["--no-eval"] if cmd == "golden" else [])
            r.expect_error(f"{cmd} on {name}", args, path, cause)
    for version in ("1.0.0", "1.-1", "01.0", " 1.0", "1.0x"):
        path = variant(f"version_{len(version)}_{abs(hash(version)) % 1000}.lqm", lambda g: None, version)
        r.expect_error(f"lqm_version '{version}'", ["inspect", path], path, "is not MAJOR.MINOR")

    # A 1.5 KB file declaring a 65536 x 784 x 65536 matmul (and the 8192 one: 2 GB and 13 s an image).
    for n in (65536, 8192):
        g = {"model": {"name": "bomb", "input_shape": [784, n]}, "inputs": ["x"], "outputs": ["y"],
             "layers": [{"name": "t", "op": "reshape", "inputs": ["x"], "outputs": ["a"], "attrs": {"shape": [1, 784, n]}},
                        {"name": "p", "op": "permute", "inputs": ["a"], "outputs": ["b"], "attrs": {"dims": [0, 2, 1]}},
                        {"name": "mm", "op": "matmul", "inputs": ["b", "a"], "outputs": ["y"], "attrs": {"heads": 1, "k": 784, "n": n},
                         "operands": {"a": {"format": "U", "bits": 8, "scale": "s", "zero_point": "z"},
                                      "b": {"format": "U", "bits": 8, "scale": "s", "zero_point": "z"}}}]}
        path = r.write(f"matmul_{n}.lqm", lqm(g, [("s", "F32", [1], f32(0.1)), ("z", "I32", [1], i32(0))]))
        for cmd in ("inspect", "golden", "sim"):
            args = [cmd, path] + (["--hw", r.hw] if cmd == "sim" else []) + (["--no-eval"] if cmd == "golden" else [])
            r.expect_error(f"{cmd} on a {n}x784x{n} matmul", args, path, "layer '", "--no-limits")
    # a user who means it lifts the caps (the file is then read, not run)
    r.expect_ok("--no-limits inspect on the 8192 matmul", ["--no-limits", "inspect", path], "bomb")
    r.expect_ok("inspect --no-limits (after the command) on the 8192 matmul", ["inspect", path, "--no-limits"], "bomb")


def case_memory_bombs(r):
    """3. Files whose claimed sizes would take gigabytes or minutes."""
    # 20 M one-byte pushes (3.4 GB of objects before the fix)
    pkl = b"\x80\x02(" + b"N" * 20_000_000 + b"l."
    path = r.write("pushes.pt", torch_zip(pkl))
    r.expect_error("20 M pushed values", ["inspect", path], path, "MiB of objects")
    # one list of 200,000 items copied by 200,000 set() calls: quadratic memory from a 2 MB file
    p = Pickle().op("]").op("(")
    p.b += b"N" * 200_000
    p.op("e").put(0).op("0").glob("builtins", "set").put(1).op("0").op("]").op("(")
    p.b += b"h\x01h\x00\x85R" * 200_000
    p.op("e")
    path = r.write("set_copies.pt", torch_zip(p.bytes()))
    r.expect_error("a list copied 200,000 times", ["inspect", path], path, "MiB of objects")
    # overlapping entries (Fifield's non-recursive zip bomb): each entry's local header and data
    # lie inside the previous entry's data, so 16 names reuse one run of bytes
    pkl_ok = state_dict_pickle([("w", "0", 4, [4], [1])])
    r.write("overlap.pt", overlapping_zip(pkl_ok, 16))
    path = r.path("overlap.pt")
    r.expect_error("zip entries that overlap", ["inspect", path], path, "overlaps")
    # a 1 MiB deflate stream that inflates to 1 GiB (the storage claims it honestly)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    comp = b"".join(c.compress(b"\0" * (1 << 24)) for _ in range(64)) + c.flush()
    big = 1 << 30
    pkl_big = state_dict_pickle([("w", "0", big // 4, [big // 4], [1])])
    raw = zip_archive([("archive/data.pkl", pkl_big, 0, {})])
    # splice a deflated entry in by hand: the builder would need the 1 GiB of zeros in memory
    crc = 0
    zero = b"\0" * (1 << 24)
    for _ in range(64):
        crc = zlib.crc32(zero, crc)
    name = b"archive/data/0"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(comp), big, len(name), 0) + name + comp
    first_len = raw.index(struct.pack("<I", 0x02014B50))
    body = raw[:first_len] + local
    cd = raw[first_len:raw.index(struct.pack("<I", 0x06054B50))]
    cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(comp), big, len(name), 0, 0, 0, 0, 0, first_len) + name
    zipped = body + cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 2, 2, len(cd), len(body), 0)
    path = r.write("inflate.pt", zipped)
    r.expect_error("a 1 MiB entry inflating to 1 GiB", ["inspect", path], path, "inflates", "--no-limits")
    # broadcast and overlapping views: statistics without copying, within the budget
    views = [(f"b{k}", "0", 4, [16384, 16384], [0, 0]) for k in range(16)]
    views += [(f"o{k}", "1", 32768, [16384, 16384], [1, 1]) for k in range(4)]
    path = r.write("views.pt", torch_zip(state_dict_pickle(views), [("0", f32(1, 2, 3, 4)), ("1", f32(*range(32768)))]))
    r.expect_ok("stats over 20 broadcast/overlapping 2^28-element views", ["inspect", path], "b15", max_seconds=30)
    # a JPEG header claiming 65000 x 65000
    jpg = r.write("jpegs/c0/huge.jpg", jpeg_header(65000, 65000))
    r.expect_error("a JPEG claiming 65000x65000", ["eval", "--model", "fmnist_resnet", "--checkpoint",
                   os.path.join(ROOT, "models/fmnist_resnet.safetensors"), "--data", r.path("jpegs"), "--limit", "1", "--no-progress"],
                   jpg, "65000x65000", "--no-limits")
    # IDX .gz: a header claiming 1e12 bytes, and a payload that goes on past its header's claim
    def idx_dir(name, n, h, w, images, extra=b""):
        d = r.path(name)
        os.makedirs(d, exist_ok=True)
        for split in ("train", "t10k"):
            with gzip.open(os.path.join(d, f"{split}-images-idx3-ubyte.gz"), "wb", compresslevel=1) as f:
                f.write(struct.pack(">IIII", 0x803, n, h, w) + images + extra)
            with gzip.open(os.path.join(d, f"{split}-labels-idx1-ubyte.gz"), "wb") as f:
                f.write(struct.pack(">II", 0x801, n) + bytes(n if n < 1000 else 0))
        return d
    d = idx_dir("idx_claim", 60000, 4096, 4096, b"")
    ck = os.path.join(ROOT, "models/fmnist_resnet.safetensors")
    r.expect_error("an IDX header claiming 1e12 bytes", ["eval", "--checkpoint", ck, "--data", d, "--no-progress"],
                   "t10k-images-idx3-ubyte.gz", "claims", "--no-limits")
    d = idx_dir("idx_long", 10, 28, 28, b"\0" * 7840, b"\0" * (256 << 20))
    r.expect_error("an IDX payload longer than its header", ["eval", "--checkpoint", ck, "--data", d, "--no-progress"],
                   "t10k-images-idx3-ubyte.gz", "more data than the header")
    # headers with 100,000 entries parse in linear time
    n = 100_000
    path = r.write("many.safetensors", safetensors([(f"t{k}", "F32", [1], f32(k)) for k in range(n)]))
    r.expect_ok("a safetensors header of 100,000 entries", ["inspect", "--no-stats", path], f"tensors: {n}", max_seconds=20)
    graph, tensors = small_model()
    many = tensors + [(f"samples/t{k}", "F32", [1], f32(k)) for k in range(n)]
    path = r.write("many.lqm", lqm(graph, many))
    r.expect_ok("an .lqm header of 100,000 entries", ["inspect", "--no-stats", path], "hostile", max_seconds=20)


def case_size_overflow(r):
    """4. Element counts whose product overflows (shape (2^32, 2^32, 0) is empty, not UB)."""
    path = r.write("empty_huge.pt", torch_zip(state_dict_pickle([("e", "0", 1, [1 << 32, 1 << 32, 0], [0, 0, 0]),
                                                                ("w", "0", 1, [1], [1])]), [("0", f32(1))]))
    r.expect_ok("a (2^32, 2^32, 0) tensor", ["inspect", path], "elements: 1")
    path = r.write("overflow.pt", torch_zip(state_dict_pickle([("e", "0", 1, [1 << 32, 1 << 32, 1 << 32], [0, 0, 0])]), [("0", f32(1))]))
    r.expect_error("a (2^32, 2^32, 2^32) view", ["inspect", path], path, "overflows")
    path = r.write("overflow.safetensors", safetensors([], header_override=json.dumps(
        {"e": {"dtype": "F32", "shape": [1 << 40, 1 << 40], "data_offsets": [0, 0]}})))
    r.expect_error("a safetensors shape whose product overflows", ["inspect", path], path, "overflows")


def case_temp_files(r):
    """5. Outputs: a symlink at a temp name is never followed; stale temps of dead runs removed."""
    target = r.write("victim.txt", "precious\n")
    hw = r.hw
    out = r.path("sim.csv")
    # the names a predictable temp scheme would use, for every pid up to the current maximum run
    for pid in range(os.getpid() - 5, os.getpid() + 400):
        os.symlink(target, f"{out}.tmp.{pid}")
    stale = f"{out}.tmp.999999999.0123456789ab"
    open(stale, "w").write("debris of a kill -9\n")
    topo = os.path.join(ROOT, "configs/topologies/resnet18.csv")
    r.expect_ok("sim writes its CSV", ["sim", topo, "--hw", hw, "--csv", out, "-q"], "simulated")
    r.checks += 1
    if open(target).read() != "precious\n":
        r.fail("a symlink at a temp name was followed: victim.txt was overwritten")
    if os.path.exists(stale):
        r.fail("a stale temp file of a dead process was left")
    if not open(out).read().startswith("layer") and "," not in open(out).read():
        r.fail("the CSV was not written")
    # an unwritable output fails before the run, naming the option
    r.expect_error("quantize to an unwritable --export", ["quantize", "--method", "logart", "--checkpoint",
                   os.path.join(ROOT, "models/fmnist_resnet.safetensors"), "--calib-data", "/usr/share/datasets/fashion-mnist",
                   "--export", "/nonexistent-dir/m.lqm"], "/nonexistent-dir/m.lqm", "--export", "does not exist")
    r.expect_error("train to an unwritable --out", ["train", "--model", "fmnist_resnet", "--out", "/nonexistent-dir/m.safetensors"],
                   "/nonexistent-dir/m.safetensors", "--out")


def case_hw_config(r):
    """6. Hardware configs with values that would wrap cycle counts."""
    topo = os.path.join(ROOT, "configs/topologies/resnet18.csv")
    for name, cfg, cause in [
        ("bw_tiny.json", {"clock_mhz": 200, "dram": {"bandwidth_gbps": 1e-300, "latency_ns": 100}}, "bytes per cycle"),
        ("lat_huge.json", {"clock_mhz": 200, "dram": {"bandwidth_gbps": 12.8, "latency_ns": 1e300}}, "latency_ns"),
        ("clock_huge.json", {"clock_mhz": 1e300}, "clock_mhz"),
        ("sram_huge.json", {"clock_mhz": 200, "sram": {"act_kib": 1e300}}, "act_kib"),
        ("energy_inf.json", {"clock_mhz": 200, "energy_pj": {"dram_per_byte": 1e308}}, "dram_per_byte"),
        ("dup.json", '{"clock_mhz": 200, "clock_mhz": 100}', "appears twice"),
    ]:
        path = r.write(name, cfg if isinstance(cfg, str) else json.dumps(cfg))
        r.expect_error(f"sim with {name}", ["sim", topo, "--hw", path], path, cause)


def case_small_defects(r):
    """7. FIFOs, duplicate names, fractional config values, out-of-range CLI values."""
    fifo = r.path("fifo.pt")
    os.mkfifo(fifo)
    r.expect_error("inspect on a FIFO", ["inspect", fifo], fifo, "FIFO")
    r.expect_error("inspect on a directory", ["inspect", r.tmp], r.tmp, "directory")
    pkl = state_dict_pickle([("w", "0", 1, [1], [1])])
    path = r.write("two_pkl.pt", torch_zip(pkl, [("0", f32(1))], dupe_pkl=pkl))
    r.expect_error("a zip with two data.pkl", ["inspect", path], path, "appears twice")
    path = r.write("dupkey.safetensors", safetensors([], header_override=
                   '{"t": {"dtype": "F32", "dtype": "I8", "shape": [1], "data_offsets": [0, 4]}}', data=f32(1)))
    r.expect_error("a safetensors entry with two 'dtype'", ["inspect", path], path, "'dtype' appears twice")
    cfg = r.write("half_bit.json", '{"w_bit": 4.5}')
    ck = os.path.join(ROOT, "models/fmnist_resnet.safetensors")
    r.expect_error("config w_bit 4.5", ["quantize", "--method", "logart", "--checkpoint", ck, "--config", cfg,
                   "--calib-data", "/usr/share/datasets/fashion-mnist"], cfg, "w_bit", "whole number")
    graph, tensors = small_model()
    model = r.write("ok.lqm", lqm(graph, tensors))
    for args, cause in [(["golden", model, "--acc-bits", "0"], "--acc-bits"), (["golden", model, "--frac-bits", "-5"], "--frac-bits"),
                        (["golden", model, "-j", "0"], "--jobs"), (["golden", model, "-j", "-3"], "--jobs"),
                        (["verify", model, "--images", "-1"], "--images"), (["explore", model, "--data", "x", "-j", "0"], "--jobs")]:
        r.expect_error(" ".join(args[:1] + args[2:]), args, None, cause)


def case_messages(r):
    """8. Messages escape control characters and invalid UTF-8 from the file."""
    raw = json.dumps({"evil\x1b[31mred": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 4]}})
    path = r.write("evil.safetensors", safetensors([], header_override=raw, data=f32(1)))
    errs = [r.expect_error("a tensor name with an ESC sequence", ["inspect", path], path, "unknown dtype", "evil\\x1b[31mred")]
    # a pickle global with invalid UTF-8 and a terminal escape in its name
    pkl = Pickle().op("c", b"os\xff\x1b]0;pwned\x07\nsystem\n").op(")").op("R").bytes()
    path = r.write("evil_global.pt", torch_zip(pkl))
    errs.append(r.expect_error("a global named with invalid UTF-8", ["inspect", path], path, "is not allowed", "os\\xff\\x1b]0;pwned\\x07"))
    r.checks += 1
    if any("\x1b" in e or "\x07" in e for e in errs):
        r.fail("a raw control character reached the terminal")


def case_verify_flip(r):
    """7 (cont.). verify --flip-expected past the last job is an error, not a silent pass."""
    graph, tensors = small_model()
    tensors = tensors + [("samples/images", "F32", [1, 1, 4, 4], f32(*[0.1 * k for k in range(16)]))]
    model = r.write("samples.lqm", lqm(graph, tensors))
    r.expect_error("verify --flip-expected 99999", ["verify", model, "--all", "--flip-expected", "99999"], None, "--flip-expected 99999")


CASES = {
    "pickle_recursion": case_pickle_recursion,
    "lqm_validation": case_lqm_validation,
    "memory_bombs": case_memory_bombs,
    "size_overflow": case_size_overflow,
    "temp_files": case_temp_files,
    "hw_config": case_hw_config,
    "small_defects": case_small_defects,
    "verify_flip": case_verify_flip,
    "messages": case_messages,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logq", required=True)
    ap.add_argument("--case", choices=sorted(CASES))
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list or not a.case:
        print("\n".join(sorted(CASES)))
        return 0
    with tempfile.TemporaryDirectory(prefix="logq_hostile_") as tmp:
        r = Runner(os.path.abspath(a.logq), tmp)
        r.hw = r.write("hw.json", json.dumps({"clock_mhz": 200, "array": {"rows": 4, "cols": 4, "pe": "universal"}}))
        print(f"{a.case}: {CASES[a.case].__doc__}")
        CASES[a.case](r)
        print(f"{r.checks - len(r.failures)} passed, {len(r.failures)} failed")
        return 1 if r.failures else 0


if __name__ == "__main__":
    sys.exit(main())
