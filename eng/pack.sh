#!/usr/bin/env bash
# Packs the six packages into a folder (default artifacts/packages), each with README, LICENSE, XML docs and symbols:
#   FashionVision, .Imaging, .Onnx, .Visualization   (lib/net8.0 + lib/net10.0, .snupkg)
#   FashionVision.AspNetCore                         (lib/net10.0: ASP.NET Core 10's shared framework, .snupkg)
#   FashionVision.Cli (.NET tool `fashionvision`)                    one package per platform + a top-level package
# The tool carries libtorch, so it is packed per platform (RID-specific tool packages, .NET SDK 10); its copy of
# libLibTorchSharp.so gets the native-loading fix unconditionally, since the package is installed on systems with and
# without GCC 13's libstdc++.
#
# Usage: eng/pack.sh [--output DIR] [--version VERSION] [--tool-rids "linux-x64;win-x64;osx-arm64"] [--no-tool]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
output="$root/artifacts/packages"
version=""
tool_rids="linux-x64;win-x64;osx-arm64"
pack_tool=1
while [ $# -gt 0 ]; do
  case "$1" in
    --output) output="$2"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    --tool-rids) tool_rids="$2"; shift 2 ;;
    --no-tool) pack_tool=0; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$output"
common=(-c Release -o "$output" --nologo -v quiet -p:ContinuousIntegrationBuild=true)
[ -n "$version" ] && common+=(-p:Version="$version")

for project in FashionVision FashionVision.Imaging FashionVision.Onnx FashionVision.Visualization FashionVision.AspNetCore; do
  echo "pack $project"
  dotnet pack "$root/src/$project/$project.csproj" "${common[@]}"
done
if [ "$pack_tool" -eq 1 ]; then
  echo "pack FashionVision.Cli ($tool_rids)"
  dotnet pack "$root/src/FashionVision.Cli/FashionVision.Cli.csproj" "${common[@]}" \
    -p:FashionVisionToolRids="${tool_rids//;/ }" -p:SelfContained=false -p:FashionVisionPatchLibTorchSharp=always
fi
ls -l "$output"
