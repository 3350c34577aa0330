#!/usr/bin/env bash
# check_library.sh LIB [HEADER]: the shipped library's dynamic interface, checked from the ELF.
#   - exports exactly the functions the header declares, each as name@@SWIFTADAM_0, and
#     nothing else (no Swift symbol, no _end/_edata/__bss_start);
#   - SONAME libSwiftAdam.so.<major>, version definitions named for the library (not a path);
#   - no dynamic relocation binds to a symbol the library defines (nothing interposable);
#   - no libswift* dependency.
# Prints the runtime floor (highest GLIBC_ and GLIBCXX_ versions needed) and the size.
set -euo pipefail
lib=${1:?usage: check_library.sh LIB [HEADER]}
header=${2:-$(dirname "$0")/../../include/swiftadam.h}
fail=0
err() { echo "check_library: $lib: $*" >&2; fail=1; }

major=$(sed -n 's/^#define SWIFTADAM_VERSION_MAJOR \([0-9]*\)$/\1/p' "$header")
node="SWIFTADAM_$major"
soname="libSwiftAdam.so.$major"

# Declarations start in column 0; comments (which also name functions) do not.
declared=$(grep -oE '^[a-z].*\bswiftadam_[a-z0-9_]+\(' "$header" | grep -oE 'swiftadam_[a-z0-9_]+\($' | tr -d '(' | sort -u)
[ -n "$declared" ] || err "no function declarations found in $header"
exported=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sort -u)
expected=$(sed "s/\$/@@$node/" <<<"$declared" | sort -u)
if [ "$exported" != "$expected" ]; then
    err "exported symbols differ from the header's functions (< exported, > expected):"
    diff <(echo "$exported") <(echo "$expected") | grep '^[<>]' | head -20 >&2 || true
fi

got_soname=$(readelf -dW "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$got_soname" = "$soname" ] || err "SONAME is '${got_soname}', expected $soname"

verdefs=$(readelf -VW "$lib" | sed -n '/version_d/,/version_r/p' | grep -oE 'Name: [^ ]+' | cut -d' ' -f2 | sort | tr '\n' ' ')
[ "$verdefs" = "$node $soname " ] || err "version definitions are '$verdefs', expected '$node $soname '"

# Relocations name a symbol in column 5; any that the library itself defines could be
# taken over by another object loaded earlier (or RTLD_GLOBAL).
defined=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//' | sort -u)
relsyms=$(readelf -rW "$lib" | awk '$3 ~ /^R_/ && NF >= 5 {print $5}' | sed 's/@.*//' | sort -u)
bound=$(comm -12 <(echo "$defined") <(echo "$relsyms"))
[ -z "$bound" ] || err "dynamic relocations bind to the library's own symbols: $bound"

if readelf -dW "$lib" | grep NEEDED | grep -q libswift; then err "depends on libswift*"; fi

floor() { objdump -T "$lib" | grep -oE "\($1_[0-9.]+\)" | tr -d '()' | sort -uV | tail -n 1; }
echo "check_library: $(basename "$lib"): $(echo "$declared" | wc -l) functions @@$node, SONAME $got_soname," \
     "$(stat -c %s "$lib") bytes, needs $(floor GLIBC) $(floor GLIBCXX)"
exit $fail
