#!/usr/bin/env bash
# Rebuilds wasm/mbedtls.wasm from mbedtls/ (upstream, unmodified) and wasm/ (config, shim) with
# Debian's emscripten 3.1.6. Reproducible: fixed flags, sorted inputs, no paths or timestamps in
# the output; two builds give byte-identical files. Writes wasm/mbedtls.wasm (wasm SIMD), wasm/mbedtls-nosimd.wasm and wasm/BUILD-INFO.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v emcc >/dev/null 2>&1; then
  echo "build.sh: emcc not found; install emscripten 3.1.6 with: sudo apt-get install -y emscripten" >&2
  exit 1
fi
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}   # emscripten's optimizer needs Debian's node modules
export EMSDK_PYTHON=${EMSDK_PYTHON:-/usr/bin/python3}  # ~3x faster emcc start-up here
export SOURCE_DATE_EPOCH=0 LC_ALL=C

emver=$(emcc --version | head -1 | sed -n 's/.* \([0-9][0-9.]*\) .*/\1/p')
if [ "$emver" != "3.1.6" ]; then
  echo "build.sh: warning: emscripten $emver found, the committed wasm is built with 3.1.6" >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tlsw-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
jobs=$(nproc 2>/dev/null || echo 2)

# -mbulk-memory: memcpy/memset become wasm memory.copy/fill (supported wherever wasm is in use
# today: Chrome 75+, Firefox 79+, Safari 15+, Node 12.5+), ~10% of the bulk-transfer CPU.
CFLAGS=(-O3 -mbulk-memory -DMBEDTLS_CONFIG_FILE='<mbedtls_config.h>' -Iwasm -Imbedtls/include -Imbedtls/library
  -ffile-prefix-map="$PWD"=. -fno-ident -Wall -Wno-unused-function)

srcs=$( (ls mbedtls/library/*.c wasm/*.c) | LC_ALL=C sort)
export work
printf '%s\n' $srcs | xargs -P "$jobs" -I{} sh -c '
  src="$1"; shift
  obj="$work/$(echo "$src" | tr / _).o"
  emcc "$@" -c "$src" -o "$obj"
  # ChaCha20 and its AEAD have wasm SIMD paths; only their files are built with SIMD, since
  # clang autovectorising mbedTLS made it slower. A second object without SIMD makes the
  # fallback module for runtimes that lack wasm SIMD.
  case "$src" in wasm/chacha20.c|wasm/chachapoly.c) emcc "$@" -msimd128 -c "$src" -o "$work/simd_$(basename "$obj")";; esac
' _ {} "${CFLAGS[@]}"

objs=$(printf '%s\n' $srcs | tr / _ | sed "s|^|$work/|; s|\$|.o|")
simd_objs=$(printf '%s\n' $objs | sed -E "s#$work/(wasm_(chacha20|chachapoly)\.c\.o)#$work/simd_\1#")
link() {
  out=$1; shift
  emcc -O3 -mbulk-memory "$@" -o "$work/$out" \
    -sSTANDALONE_WASM --no-entry \
    --js-library wasm/imports.js \
    -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=1MB -sMAXIMUM_MEMORY=2GB -sTOTAL_STACK=128KB \
    -sERROR_ON_UNDEFINED_SYMBOLS=1 -sFILESYSTEM=0 -sEXPORTED_FUNCTIONS=_malloc,_free
  cp "$work/$out" "wasm/$out"
}
# mbedtls.wasm uses wasm SIMD (every current engine: Node >= 16.4, Chrome/Edge >= 91,
# Firefox >= 89, Safari >= 16.4); mbedtls-nosimd.wasm is the same library without it.
link mbedtls.wasm $simd_objs
link mbedtls-nosimd.wasm $objs

sum=$(sha256sum wasm/mbedtls.wasm | cut -d' ' -f1)
sum_nosimd=$(sha256sum wasm/mbedtls-nosimd.wasm | cut -d' ' -f1)
cat > wasm/BUILD-INFO <<INFO
file: wasm/mbedtls.wasm
sha256: $sum
bytes: $(wc -c < wasm/mbedtls.wasm)
file: wasm/mbedtls-nosimd.wasm
sha256: $sum_nosimd
bytes: $(wc -c < wasm/mbedtls-nosimd.wasm)
toolchain: emscripten $emver (Debian package emscripten $(dpkg-query -W -f='${Version}' emscripten 2>/dev/null || echo unknown)), clang $(emcc -v 2>&1 | sed -n 's/.*clang version \([0-9.]*\).*/\1/p' | head -1)
mbedtls: $(sed -n 's/^version: //p' mbedtls/VERSION)
built by: ./build.sh
INFO
echo "wasm/mbedtls-nosimd.wasm $sum_nosimd"
echo "wasm/mbedtls.wasm $sum"
