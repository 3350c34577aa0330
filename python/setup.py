"""Build hook for the swiftadam package (metadata is in pyproject.toml).

`pip install ./python` runs build_py below: it compiles the Swift library in release mode
with the Swift runtime linked in statically,

    swift build -c release -Xswiftc -static-stdlib        (in the repository root)

and copies .build/release/libSwiftAdam.so into the package, so the installed package
needs no Swift toolchain. The wheel is marked platform-specific (it holds a native library).

The repository root is the parent of this file's directory (pip builds local projects in
place); set SWIFTADAM_REPO_ROOT to build from elsewhere. SWIFT names the swift executable
(default: `swift` on PATH, then /opt/swift/usr/bin/swift).
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py as _build_py
from setuptools.dist import Distribution

LIBRARY = "libSwiftAdam.so"
HERE = Path(__file__).resolve().parent


def repo_root() -> Path:
    env = os.environ.get("SWIFTADAM_REPO_ROOT")
    root = Path(env).resolve() if env else HERE.parent
    if not (root / "Package.swift").is_file():
        how = "SWIFTADAM_REPO_ROOT" if env else f"the parent of {HERE}"
        sys.exit(
            f"swiftadam build: no Package.swift in {root} ({how}). The package builds the "
            "Swift library from the SwiftAdam repository: run `pip install ./python` inside a "
            "checkout, or set SWIFTADAM_REPO_ROOT to the repository root."
        )
    return root


def swift_executable() -> str:
    for candidate in (os.environ.get("SWIFT"), shutil.which("swift"), "/opt/swift/usr/bin/swift"):
        if candidate and (os.path.isfile(candidate) or shutil.which(candidate)):
            return candidate
    sys.exit("swiftadam build: no `swift` found (looked at $SWIFT, PATH, /opt/swift/usr/bin). "
             "Install Swift 6 or put it on PATH.")


def build_library() -> Path:
    root = repo_root()
    cmd = [swift_executable(), "build", "-c", "release", "-Xswiftc", "-static-stdlib"]
    print(f"swiftadam build: {' '.join(cmd)}  (in {root})", flush=True)
    subprocess.run(cmd, cwd=root, check=True)
    lib = root / ".build" / "release" / LIBRARY
    if not lib.is_file():
        sys.exit(f"swiftadam build: swift build succeeded but {lib} does not exist")
    return lib


class build_py(_build_py):
    """build_py that also builds and bundles libSwiftAdam.so."""

    def run(self):
        super().run()
        lib = build_library()
        targets = [Path(self.build_lib) / "swiftadam"]
        if getattr(self, "editable_mode", False):
            # `pip install -e`: the package is imported from the source tree.
            targets.append(HERE / "swiftadam")
        for target in targets:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(lib, target / LIBRARY)
            print(f"swiftadam build: bundled {lib} -> {target / LIBRARY}", flush=True)


class BinaryDistribution(Distribution):
    """The wheel carries a native library: platform-specific, not pure Python."""

    def has_ext_modules(self):
        return True


cmdclass = {"build_py": build_py}
try:  # setuptools >= 70.1 ships bdist_wheel; older ones use the wheel package's
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:  # pragma: no cover
    try:
        from wheel.bdist_wheel import bdist_wheel as _bdist_wheel
    except ImportError:
        _bdist_wheel = None

if _bdist_wheel is not None:

    class bdist_wheel(_bdist_wheel):
        """Tag py3-none-<platform>: the library is called through ctypes, so any Python 3
        works, but only on this platform."""

        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = bdist_wheel

setup(cmdclass=cmdclass, distclass=BinaryDistribution)
