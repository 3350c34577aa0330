"""The ctypes bindings against include/swiftadam.h, the loader and the ABI check."""
import ctypes
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import swiftadam
from swiftadam import _bindings

REPO = Path(__file__).resolve().parents[2]
ENV_AT_IMPORT = dict(os.environ)
HEADER = REPO / "include" / "swiftadam.h"


def header_text():
    if not HEADER.is_file():
        pytest.fail(f"{HEADER} not found: run the tests from the SwiftAdam repository")
    text = HEADER.read_text()
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # drop comments


def header_prototypes():
    """name -> (return type, [parameter types]) for every swiftadam_* function."""
    text = header_text()
    text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    protos = {}
    for m in re.finditer(r"([A-Za-z_][\w\s\*]*?)\b(swiftadam_\w+)\s*\(([^)]*)\)\s*;", text):
        ret, name, args = " ".join(m.group(1).split()), m.group(2), " ".join(m.group(3).split())
        params = [] if args in ("", "void") else [a.strip() for a in args.split(",")]
        # drop the parameter name: the type is everything before the last identifier
        types = [re.sub(r"\s*\b\w+$", "", p).strip() for p in params]
        protos[name] = (ret, types)
    return protos


def header_defines():
    out = {}
    for m in re.finditer(r"#define\s+(SWIFTADAM_\w+)\s+(.+)", header_text()):
        out[m.group(1)] = m.group(2).strip()
    return out


def ctype_class(t):
    """Classify a ctypes type: pointer, char-pointer, or (kind, size) for scalars."""
    if t is None:
        return "void"
    if t is ctypes.c_char_p:
        return "string"
    if t is ctypes.c_void_p or issubclass(t, ctypes._Pointer):
        return "pointer"
    if t is ctypes.c_double:
        return "double"
    signed = t(-1).value == -1
    return ("int" if signed else "uint", ctypes.sizeof(t))


def c_class(t):
    t = " ".join(t.split())
    if t == "void":
        return "void"
    if t == "const char *":
        return "string"
    if "*" in t:
        return "pointer"
    return {"int32_t": ("int", 4), "uint32_t": ("uint", 4), "uint64_t": ("uint", 8),
            "size_t": ("uint", ctypes.sizeof(ctypes.c_size_t)), "double": "double"}[t]


def test_header_parse_finds_the_functions():
    protos = header_prototypes()
    assert len(protos) >= 25
    assert protos["swiftadam_step"] == ("int32_t", ["swiftadam_state *", "float *const *",
                                                     "const float *const *", "size_t", "uint32_t"])
    assert protos["swiftadam_abi_version"] == ("uint32_t", [])


def test_every_header_function_is_bound_and_nothing_else():
    in_header = set(header_prototypes())
    bound = set(_bindings.PROTOTYPES)
    assert in_header - bound == set(), f"not bound in _bindings: {sorted(in_header - bound)}"
    assert bound - in_header == set(), f"bound but not in the header: {sorted(bound - in_header)}"


@pytest.mark.parametrize("name", sorted(header_prototypes()))
def test_prototype_matches_header(name):
    ret, args = header_prototypes()[name]
    restype, argtypes = _bindings.PROTOTYPES[name]
    assert ctype_class(restype) == c_class(ret), f"{name}: restype {restype} vs {ret}"
    assert len(argtypes) == len(args), f"{name}: {len(argtypes)} argtypes vs {args}"
    for i, (ct, c) in enumerate(zip(argtypes, args)):
        assert ctype_class(ct) == c_class(c), f"{name} arg {i}: {ct} vs {c}"
    fn = getattr(_bindings.lib, name)  # the loaded library carries the binding...
    assert fn.restype is restype and list(fn.argtypes) == argtypes
    raw = ctypes.CDLL(swiftadam.library_path())  # ...and the symbol resolves
    assert ctypes.cast(getattr(raw, name), ctypes.c_void_p).value


def test_binding_module_comments_every_prototype():
    src = Path(_bindings.__file__).read_text()
    for name in _bindings.PROTOTYPES:
        assert re.search(rf"^# .*\b{name}\(", src, re.M), f"no C declaration comment for {name}"


def test_constants_match_header():
    defines = header_defines()
    checked = 0
    for name, value in vars(_bindings).items():
        if name.startswith("SWIFTADAM_"):
            assert name in defines, f"{name} is not in the header"
            expr = re.sub(r"(\d+)u\b", r"\1", defines[name])
            assert eval(expr, {}) == value, f"{name}: header {defines[name]} vs {value}"
            checked += 1
    assert checked >= 25
    codes = {n: eval(v, {}) for n, v in defines.items() if n.startswith("SWIFTADAM_ERR_")}
    for n, code in codes.items():  # every status code has its name in the library
        assert swiftadam._errors.status_name(code) == n
    assert int(defines["SWIFTADAM_ABI_VERSION"]) == _bindings.EXPECTED_ABI_VERSION


def test_config_struct_layout():
    cfg = _bindings.swiftadam_config
    fields = [f[0] for f in cfg._fields_]
    text = header_text()
    body = re.search(r"typedef struct swiftadam_config \{(.*?)\} swiftadam_config;", text, re.S).group(1)
    header_fields = re.findall(r"(\w+)\s*;", body)
    assert fields == header_fields
    assert cfg.struct_size.size == ctypes.sizeof(ctypes.c_size_t)
    assert ctypes.sizeof(cfg) == 64 and cfg.flags.offset == 48 and cfg.reserved.offset == 52
    assert cfg.flavor.offset == 56 and cfg.dtype.offset == 60
    # the library fills it through our layout: torch's defaults come back intact
    c = cfg()
    assert _bindings.lib.swiftadam_config_init(ctypes.byref(c), ctypes.sizeof(c)) == 0
    assert (c.struct_size, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, c.flags, c.reserved,
            c.flavor, c.dtype) == (64, 1e-3, 0.9, 0.999, 1e-8, 0.0, 0, 0, 0, 0)


@pytest.mark.skipif(shutil.which(os.environ.get("CC", "cc")) is None, reason="no C compiler")
def test_config_struct_layout_against_the_c_compiler(tmp_path):
    src = tmp_path / "layout.c"
    src.write_text(
        '#include <stdio.h>\n#include <stddef.h>\n#include "swiftadam.h"\n'
        "int main(void) { printf(\"%zu\", sizeof(swiftadam_config));\n"
        + "".join(f'  printf(" %zu", offsetof(swiftadam_config, {f[0]}));\n'
                  for f in _bindings.swiftadam_config._fields_)
        + "  return 0; }\n")
    exe = tmp_path / "layout"
    subprocess.run([os.environ.get("CC", "cc"), f"-I{REPO / 'include'}", str(src), "-o", str(exe)], check=True)
    got = [int(x) for x in subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()]
    cfg = _bindings.swiftadam_config
    assert got == [ctypes.sizeof(cfg)] + [getattr(cfg, f[0]).offset for f in cfg._fields_]


def test_abi_check_refuses_a_mismatch():
    class FakeLib:
        def __init__(self, version):
            self.swiftadam_abi_version = lambda: version

    _bindings.check_abi(FakeLib(_bindings.EXPECTED_ABI_VERSION), "/x/libSwiftAdam.so")
    with pytest.raises(ImportError) as e:
        _bindings.check_abi(FakeLib(2), "/x/libSwiftAdam.so")
    msg = str(e.value)
    assert "/x/libSwiftAdam.so" in msg and "ABI version 2" in msg and "needs ABI version 1" in msg
    assert isinstance(e.value, _bindings.LibraryNotFoundError)


def run_python(code, **env):
    full = {k: v for k, v in os.environ.items() if k != "SWIFTADAM_LIBRARY"}
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full,
                          cwd=str(Path(swiftadam.__file__).parents[1]))


def test_env_variable_comes_first_and_is_the_only_candidate(tmp_path):
    lib = swiftadam.library_path()
    copy = tmp_path / "libSwiftAdam.so"
    shutil.copy2(lib, copy)
    r = run_python("import swiftadam; print(swiftadam.library_path())", SWIFTADAM_LIBRARY=str(copy))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(copy)
    r = run_python("import swiftadam", SWIFTADAM_LIBRARY=str(tmp_path / "missing.so"))
    assert r.returncode != 0
    assert "missing.so" in r.stderr and "$SWIFTADAM_LIBRARY" in r.stderr and "LibraryNotFoundError" in r.stderr
    (tmp_path / "garbage.so").write_bytes(b"not a library")
    r = run_python("import swiftadam", SWIFTADAM_LIBRARY=str(tmp_path / "garbage.so"))
    assert r.returncode != 0 and "garbage.so" in r.stderr


def test_search_order(monkeypatch):
    pkg = Path(swiftadam.__file__).resolve().parent
    monkeypatch.delenv("SWIFTADAM_LIBRARY", raising=False)
    cands = [p for _, p in _bindings.candidate_paths()]
    assert cands == [pkg / "libSwiftAdam.so", pkg.parent.parent / ".build" / "release" / "libSwiftAdam.so"]
    monkeypatch.setenv("SWIFTADAM_LIBRARY", "/some/lib.so")
    assert [p for _, p in _bindings.candidate_paths()] == [Path("/some/lib.so")]
    if "SWIFTADAM_LIBRARY" not in ENV_AT_IMPORT:
        # the first existing candidate is the one in use
        assert Path(swiftadam.library_path()) == next(p for p in cands if p.is_file())


def test_installed_package_bundles_the_library():
    pkg = Path(swiftadam.__file__).resolve().parent
    if "site-packages" not in pkg.parts:
        pytest.skip(f"swiftadam imported from a source tree ({pkg}), not an installed package")
    assert (pkg / "libSwiftAdam.so").is_file()
    if "SWIFTADAM_LIBRARY" not in os.environ:
        assert Path(swiftadam.library_path()) == pkg / "libSwiftAdam.so"
    # the bundled library carries the Swift runtime: no libswift* dependency
    if shutil.which("ldd"):
        out = subprocess.run(["ldd", str(pkg / "libSwiftAdam.so")], capture_output=True, text=True).stdout
        assert "libswift" not in out


def test_version_backend_and_errors():
    assert swiftadam.__version__ == swiftadam.library_version() == "0.1.0"
    assert swiftadam.backend() in {"avx512", "avx2", "sse2", "scalar"}
    r = run_python("import swiftadam; print(swiftadam.backend())", SWIFTADAM_ISA="scalar")
    assert r.returncode == 0 and r.stdout.strip() == "scalar", r.stderr
    with pytest.raises(swiftadam.SwiftAdamError) as e:
        swiftadam.Adam.from_bytes(b"definitely not a checkpoint", [np.zeros(1, np.float32)])
    err = e.value
    assert isinstance(err, RuntimeError) and err.status < 0 and err.name.startswith("SWIFTADAM_ERR_")
    assert err.message and err.message in str(err)


def test_backend_docstring_names_every_path_the_header_names():
    line = re.search(r"swiftadam_backend_name: [^\n]*", HEADER.read_text()).group(0)
    names = set(re.findall(r'"(\w+)"', line))
    assert {"avx2", "sse2", "simd", "scalar"} <= names
    assert set(re.findall(r'"(\w+)"', swiftadam.backend.__doc__)) == names
    assert swiftadam.backend() in names
