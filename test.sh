#!/usr/bin/env bash
# The test command (README.md, Quickstart): installs what the tests need when it is missing, then runs the whole test
# suite. Arguments go to `dotnet test` (./test.sh --filter BrowserTests).
#
#   Debian packages   chromium (the browser tests), nodejs + npm (the build's `npm ci` for the browser app);
#                     installed with apt-get when run as root, otherwise the exact `sudo apt-get install` line is printed.
#   npm packages      web/node_modules from web/package-lock.json, when missing or older than the lockfile.
#   everything else   NuGet, restored by the build (TorchSharp + libtorch, LLamaSharp, ImageSharp, ASP.NET Core, xunit).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET SDK 10 is required and no command can install it here: https://dotnet.microsoft.com/download" >&2
  exit 1
fi

# Each Debian package the tests need, with the command that shows it is there.
packages=(
  "chromium:chromium"
  "nodejs:node"
  "npm:npm"
  "poppler-utils:pdftoppm"
)
missing=()
for entry in "${packages[@]}"; do
  command -v "${entry#*:}" >/dev/null 2>&1 || missing+=("${entry%%:*}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: the tests need Debian packages that are not installed: ${missing[*]}. Install them with" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    echo "then run ./test.sh again." >&2
    exit 1
  fi
  echo "test.sh: installing ${missing[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm writes node_modules/.package-lock.json on every install: older than the lockfile (or absent) means stale.
if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "test.sh: installing the browser app's libraries (npm ci in web/)"
  (cd web && npm ci --no-audit --no-fund)
fi

export WEBSSL_TEST_ARTIFACTS="${WEBSSL_TEST_ARTIFACTS:-$PWD/artifacts}"
exec dotnet test WebSsl.Assistant.sln -c Release "$@"
