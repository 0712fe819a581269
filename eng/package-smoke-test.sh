#!/usr/bin/env bash
# Package smoke test: proves that `dotnet add package FashionVision` works for a user, native-loading fix included.
#
#   1. packs FashionVision, FashionVision.Imaging, FashionVision.Onnx and FashionVision.Visualization (and, with --tool, the fashionvision .NET
#      tool for this machine's RID) into a temporary folder feed with eng/pack.sh, with a version no NuGet cache can already hold;
#   2. checks every package holds its README, LICENSE, XML docs, a symbols package (.snupkg), and, for the core, the
#      native-loading targets under build/ and buildTransitive/;
#   3. creates a brand-new console app OUTSIDE the repository (its own nuget.config with the local feed and nuget.org,
#      its own empty Directory.Build.props/.targets/Directory.Packages.props, its own global-packages folder with the
#      machine's cache only as a read-only fallback), adds FashionVision from the feed and TorchSharp-cpu 0.107.0,
#      trains a small model on a few hundred real Fashion-MNIST images and evaluates it;
#   4. checks the app printed its result, and that the copy of libLibTorchSharp.so in the app's output was patched
#      where this system's libstdc++ needs it.
#   5. with --tool: installs the tool from the feed into a temporary tool path (`dotnet tool install --tool-path`) and
#      runs `fashionvision models` and `fashionvision datasets verify` from it (the tool package is ~150 MB: this adds a few
#      minutes, which is why CI's Packaging test leaves it out).
# Prints "PACKAGE SMOKE TEST PASSED" on success; exits non-zero with a reason otherwise.
#
# Usage: eng/package-smoke-test.sh [--tool] [--keep]   (FASHIONVISION_SMOKE_DIR overrides the temporary folder)
set -euo pipefail

source "$(dirname "$0")/smoke-lib.sh"
pack_tool=0
keep=0
for arg in "$@"; do
  case "$arg" in
    --tool) pack_tool=1 ;;
    --keep) keep=1 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

smoke_setup "PACKAGE SMOKE TEST" fashionvision-smoke

# A version that exists nowhere but in this run's feed, so a stale cache can never answer for it.
version="0.1.0-smoke.$(date -u +%Y%m%d%H%M%S).$$"
feed="$work/feed"
mkdir -p "$feed"

# ---------------------------------------------------------------------------------------------------------- pack
step "eng/pack.sh --version $version"
pack_args=(--output "$feed" --version "$version")
# The machine's own RID (the portable one, e.g. linux-x64): the only tool package this machine can install and run.
rid="$(dotnet --info | awk '$1 == "RID:" { print $2; exit }')"
[ -n "$rid" ] || fail "dotnet --info names no RID"
if [ "$pack_tool" -eq 1 ]; then pack_args+=(--tool-rids "$rid"); else pack_args+=(--no-tool); fi
bash "$root/eng/pack.sh" "${pack_args[@]}" >"$work/pack.log" 2>&1 || { cat "$work/pack.log" >&2; fail "eng/pack.sh"; }

# ------------------------------------------------------------------------------------------------ check contents
require_entry() { # nupkg, regex
  # (the listing is read whole first: grep -q exiting early would SIGPIPE unzip under pipefail)
  local listing
  listing="$(unzip -Z1 "$1")" || fail "cannot list $1"
  grep -Eq "$2" <<<"$listing" || fail "$(basename "$1") lacks an entry matching $2"
}
for project in FashionVision FashionVision.Imaging FashionVision.Onnx FashionVision.Visualization; do
  nupkg="$feed/$project.$version.nupkg"
  [ -f "$nupkg" ] || fail "missing $nupkg"
  [ -f "$feed/$project.$version.snupkg" ] || fail "missing the symbols package of $project"
  require_entry "$feed/$project.$version.snupkg" "^lib/net10.0/$project.pdb$"
  require_entry "$nupkg" '^README.md$'
  require_entry "$nupkg" '^LICENSE$'
  require_entry "$nupkg" "^lib/net10.0/$project.dll$"
  require_entry "$nupkg" "^lib/net10.0/$project.xml$"
  require_entry "$nupkg" "^lib/net8.0/$project.dll$"
  require_entry "$nupkg" "^lib/net8.0/$project.xml$"
  nuspec="$(unzip -p "$nupkg" "$project.nuspec")"
  grep -q '<license type="expression">MIT</license>' <<<"$nuspec" || fail "$project.nuspec has no MIT license expression"
  grep -q '<readme>README.md</readme>' <<<"$nuspec" || fail "$project.nuspec names no readme"
done
core="$feed/FashionVision.$version.nupkg"
for folder in build buildTransitive; do
  require_entry "$core" "^$folder/FashionVision.targets$"
  require_entry "$core" "^$folder/LibStdCxxVersionNeedPatch.cs$"
done
grep -q 'id="TorchSharp" version="0.107.0"' <<<"$(unzip -p "$core" FashionVision.nuspec)" || fail "the core must depend on TorchSharp 0.107.0"
if [ "$pack_tool" -eq 1 ]; then
  tool="$feed/FashionVision.Cli.$version.nupkg"
  tool_rid="$feed/FashionVision.Cli.$rid.$version.nupkg"
  [ -f "$tool" ] && [ -f "$tool_rid" ] || fail "missing the tool packages"
  require_entry "$tool" '^tools/any/any/DotnetToolSettings.xml$'
  require_entry "$tool_rid" '^README.md$'
  require_entry "$tool_rid" '^LICENSE$'
  require_entry "$tool_rid" "^tools/net10.0/$rid/FashionVision.Cli.dll$"
  require_entry "$tool_rid" "^tools/net10.0/$rid/FashionVision.xml$"
  [ -f "$feed/FashionVision.Cli.$rid.$version.snupkg" ] || fail "missing the tool's symbols package"
  grep -q 'Command Name="fashionvision"' <<<"$(unzip -p "$tool_rid" "tools/net10.0/$rid/DotnetToolSettings.xml")" || fail "the tool's command is not fashionvision"
  if [[ "$rid" == linux-* ]]; then
    require_entry "$tool_rid" "^tools/net10.0/$rid/libLibTorchSharp.so$"
    # The packed native library must carry the fix whatever system packed it.
    mkdir -p "$work/tool-lib"
    unzip -q -o "$tool_rid" "tools/net10.0/$rid/libLibTorchSharp.so" -d "$work/tool-lib"
    if command -v readelf >/dev/null 2>&1; then
      grep 'GLIBCXX_3.4.32' <<<"$(readelf -V "$work/tool-lib/tools/net10.0/$rid/libLibTorchSharp.so")" | grep -q 'WEAK' \
        || fail "the tool's libLibTorchSharp.so does not have its GLIBCXX_3.4.32 need marked weak"
    fi
  fi
fi
echo "package contents: OK"

# --------------------------------------------------------------------------------------------- a user's new app
app="$work/app"
mkdir -p "$app"
# Empty MSBuild and package-management files stop any Directory.Build.* of a parent folder from leaking in.
smoke_isolate "$work"
cat >"$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config>
    <add key="globalPackagesFolder" value="$work/packages" />
  </config>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local">
      <package pattern="FashionVision" />
      <package pattern="FashionVision.*" />
    </packageSource>
    <packageSource key="nuget.org">
      <package pattern="*" />
    </packageSource>
  </packageSourceMapping>
  <fallbackPackageFolders>
    <clear />
    <add key="machine-cache" value="${NUGET_PACKAGES:-$HOME/.nuget/packages}" />
  </fallbackPackageFolders>
</configuration>
EOF

cd "$app"
step "dotnet new console"
dotnet new console --framework net10.0 --name SmokeApp --output . >"$work/new.log" 2>&1 || { cat "$work/new.log" >&2; fail "dotnet new console"; }
step "dotnet add package FashionVision $version"
dotnet add package FashionVision --version "$version" >"$work/add.log" 2>&1 || { cat "$work/add.log" >&2; fail "dotnet add package FashionVision"; }
step "dotnet add package TorchSharp-cpu 0.107.0"
dotnet add package TorchSharp-cpu --version 0.107.0 >>"$work/add.log" 2>&1 || { cat "$work/add.log" >&2; fail "dotnet add package TorchSharp-cpu"; }
grep -q "Include=\"FashionVision\" Version=\"$version\"" SmokeApp.csproj || fail "SmokeApp.csproj does not reference FashionVision $version"
[ -d "$work/packages/fashionvision/$version" ] || fail "FashionVision $version was not restored from the local feed"

cat >Program.cs <<'EOF'
// A user's first program: a few hundred real Fashion-MNIST images, a few batches of training, an evaluation.
using FashionVision.Data;
using TorchSharp;
using static TorchSharp.torch;

var source = new FashionMnistSource(new DatasetOptions { AllowDownload = false });
using var fullTrain = source.Load(DatasetSplit.Train);
using var fullTest = source.Load(DatasetSplit.Test);
using var train = fullTrain.Take(600);
using var test = fullTest.Take(300);
var statistics = train.ComputeStatistics();
Console.WriteLine($"loaded {train.Count} training and {test.Count} test images ({statistics})");

torch.manual_seed(7);
using var trainLoader = new DataLoader(train, new DataLoaderOptions { BatchSize = 50, Seed = 7, Normalization = statistics });
using var testLoader = new DataLoader(test, new DataLoaderOptions { BatchSize = 100, Shuffle = false, Normalization = statistics });
var model = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(8 * 14 * 14, 10));
var optimizer = optim.Adam(model.parameters(), lr: 3e-3);

int steps = 0;
for (int epoch = 0; epoch < 3; epoch++)
{
    model.train();
    foreach (var batch in trainLoader.GetBatches(epoch))
    {
        using var scope = NewDisposeScope();
        var loss = nn.functional.cross_entropy(model.call(batch.Images), batch.Labels);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        steps++;
    }
}

model.eval();
long correct = 0;
using (no_grad())
{
    foreach (var batch in testLoader.GetBatches())
    {
        using var scope = NewDisposeScope();
        correct += model.call(batch.Images).argmax(1).eq(batch.Labels).sum().item<long>();
    }
}
Console.WriteLine($"SMOKE steps={steps} test-accuracy={(double)correct / test.Count:0.000}");
EOF

step "dotnet run"
dotnet run -c Release >"$work/run.log" 2>&1 || { cat "$work/run.log" >&2; fail "the app did not run"; }
cat "$work/run.log"
smoke_check_result "$work/run.log" 36

# The native fix patched the app's own copy (only where the system libstdc++ lacks GLIBCXX_3.4.32), never the cache.
lib="$(find "$app/bin/Release" -name libLibTorchSharp.so | head -n 1)"
[ -n "$lib" ] || fail "no libLibTorchSharp.so in the app's output"
cached="$(find "${NUGET_PACKAGES:-$HOME/.nuget/packages}/torchsharp/0.107.0" "$work/packages" -name libLibTorchSharp.so 2>/dev/null | head -n 1)"
system_has_version=0
if system_has_glibcxx_3_4_32; then system_has_version=1; fi
if [ -n "$cached" ]; then
  if [ "$system_has_version" -eq 0 ]; then
    cmp -s "$lib" "$cached" && fail "the app's libLibTorchSharp.so was not patched"
  fi
  if command -v readelf >/dev/null 2>&1; then
    grep 'GLIBCXX_3.4.32' <<<"$(readelf -V "$cached")" | grep -q 'WEAK' && fail "the NuGet cache's libLibTorchSharp.so was modified"
  fi
fi
if [ "$pack_tool" -eq 1 ]; then
  step "dotnet tool install FashionVision.Cli $version"
  cd "$work"
  dotnet tool install FashionVision.Cli --version "$version" --tool-path "$work/tools" >"$work/tool.log" 2>&1 \
    || { cat "$work/tool.log" >&2; fail "dotnet tool install"; }
  "$work/tools/fashionvision" models >"$work/tool-models.log" 2>&1 || { cat "$work/tool-models.log" >&2; fail "fashionvision models"; }
  grep -q '11,689,512' "$work/tool-models.log" || fail "fashionvision models did not list resnet18-imagenet's parameters"
  "$work/tools/fashionvision" datasets verify fashion-mnist >"$work/tool-verify.log" 2>&1 || { cat "$work/tool-verify.log" >&2; fail "fashionvision datasets verify"; }
  grep -q 'all 4 files intact' "$work/tool-verify.log" || fail "fashionvision datasets verify did not verify"
  echo "installed tool: OK"
fi
echo "PACKAGE SMOKE TEST PASSED (FashionVision $version, accuracy $accuracy)"
