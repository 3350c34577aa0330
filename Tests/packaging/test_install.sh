#!/usr/bin/env bash
# `make install` into a temporary prefix, then use the library as a C user would: only
# through pkg-config. Checks the installed tree, the exports and SONAME of the installed
# (stripped) file, its debug info beside it (gnu-debuglink, read by valgrind), a DESTDIR
# staging install, and that `make uninstall` removes every file. Prints the sizes.
set -euo pipefail
cd "$(dirname "$0")/../.."
MAKE=${MAKE:-make}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
ok() { passed=$((passed + 1)); echo "  ok: $*"; }
fail() { echo "test_install: FAIL: $*" >&2; echo "$passed passed, 1 failed"; exit 1; }
quiet_make() { $MAKE --no-print-directory "$@" > "$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; fail "make $*"; }; }

version=$(sed -n 's/^#define SWIFTADAM_VERSION_STRING "\(.*\)"$/\1/p' include/swiftadam.h)
real=libSwiftAdam.so.$version
soname=libSwiftAdam.so.${version%%.*}
prefix=$tmp/prefix
lib=$prefix/lib

quiet_make install PREFIX="$prefix"
for f in include/swiftadam.h "lib/$real" "lib/.debug/$real.debug" lib/pkgconfig/swiftadam.pc; do
    [ -f "$prefix/$f" ] || fail "make install did not install $f"
done
for link in "$soname" libSwiftAdam.so; do
    [ "$(readlink "$lib/$link")" = "$real" ] || fail "$link -> '$(readlink "$lib/$link")', expected $real"
done
cmp -s include/swiftadam.h "$prefix/include/swiftadam.h" || fail "installed header differs"
ok "installed: include/swiftadam.h, lib/$real + $soname + libSwiftAdam.so, lib/.debug/$real.debug, lib/pkgconfig/swiftadam.pc"

Tests/packaging/check_library.sh "$lib/$real" || fail "installed library's dynamic interface"
ok "installed library exports only the API, SONAME $soname"

sections=$(readelf -SW "$lib/$real")
if grep -qE ' \.(symtab|debug_[a-z_]+) ' <<<"$sections"; then fail "installed library is not stripped"; fi
[ "$(readelf -p .gnu_debuglink "$lib/$real" | grep -oE 'libSwiftAdam[^ ]*\.debug')" = "$real.debug" ] ||
    fail "no gnu-debuglink to $real.debug"
readelf -SW "$lib/.debug/$real.debug" | grep -q ' \.debug_info ' || fail "$real.debug holds no .debug_info"
id() { readelf -n "$1" | sed -n 's/.*Build ID: //p'; }
[ -n "$(id "$lib/$real")" ] && [ "$(id "$lib/$real")" = "$(id "$lib/.debug/$real.debug")" ] ||
    fail "build ids of the library and its .debug file differ"
ok "stripped; debug info in lib/.debug/$real.debug (gnu-debuglink, same build id)"
echo "sizes: $real $(stat -c %s "$lib/$real") bytes (stripped), $real.debug $(stat -c %s "$lib/.debug/$real.debug") bytes"

export PKG_CONFIG_PATH=$lib/pkgconfig
[ "$(pkg-config --modversion swiftadam)" = "$version" ] || fail "pkg-config --modversion swiftadam"
read -r -a flags <<<"$(pkg-config --cflags --libs swiftadam)"
${CC:-cc} -O2 -Wall -Wextra -Werror examples/hello.c "${flags[@]}" \
    -Wl,-rpath,"$(pkg-config --variable=libdir swiftadam)" -o "$tmp/hello" || fail "cc hello.c with pkg-config flags"
readelf -d "$tmp/hello" | grep -q "NEEDED.*\[$soname\]" || fail "hello does not record NEEDED $soname"
ldd "$tmp/hello" | grep -q "$soname => $lib/$soname" || fail "hello does not resolve $soname in $lib"
out=$("$tmp/hello")
[[ $out == "x = 3.0000 3.0000 3.0000 3.0000 "* ]] || fail "hello printed '$out'"
ok "pkg-config --cflags --libs swiftadam: '${flags[*]}'; hello built, NEEDED $soname, ran: $out"

# valgrind 3.19 aborted ("debuginfo reader: ensure_valid failed") on the library's DWARF 5 part.
rc=0; valgrind -v --error-exitcode=3 "$tmp/hello" > "$tmp/vg.out" 2> "$tmp/vg.log" || rc=$?
[ $rc = 0 ] || { tail -n 20 "$tmp/vg.log"; fail "hello under valgrind exited $rc"; }
grep -A1 "Considering $lib/.debug/$real.debug" "$tmp/vg.log" | grep -q "CRC is valid" ||
    { grep -A2 "$real" "$tmp/vg.log"; fail "valgrind did not read $real.debug"; }
# The same numbers; the backend may differ: valgrind hides AVX-512 from CPUID, so on an
# AVX-512 CPU hello runs avx512 natively and avx2 under valgrind.
vg_out=$(cat "$tmp/vg.out")
[ "${vg_out% (backend *}" = "${out% (backend *}" ] || fail "hello under valgrind printed '$vg_out'"
ok "valgrind $(valgrind --version | cut -d- -f2) reads $real.debug (CRC valid) and runs hello cleanly (${vg_out##* (}"

quiet_make install DESTDIR="$tmp/stage" PREFIX=/opt/swiftadam
[ -f "$tmp/stage/opt/swiftadam/lib/$real" ] || fail "DESTDIR install: no $real under DESTDIR"
grep -qx 'prefix=/opt/swiftadam' "$tmp/stage/opt/swiftadam/lib/pkgconfig/swiftadam.pc" ||
    fail "DESTDIR leaked into swiftadam.pc"
quiet_make uninstall DESTDIR="$tmp/stage" PREFIX=/opt/swiftadam
left=$(find "$tmp/stage" -type f -o -type l)
[ -z "$left" ] || fail "uninstall with DESTDIR left: $left"
ok "DESTDIR staging: files under DESTDIR, .pc names PREFIX; uninstall removes them"

quiet_make uninstall PREFIX="$prefix"
left=$(find "$prefix" -type f -o -type l)
[ -z "$left" ] || fail "make uninstall left: $left"
ok "make uninstall removes every installed file"

echo "$passed passed, 0 failed"
