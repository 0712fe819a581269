#!/usr/bin/env bash
# Project-reference smoke test: proves what a user gets who references the library's source instead of the package,
# the way a new user would try it:
#
#   dotnet new console; dotnet add reference <repository>/src/FashionVision/FashionVision.csproj; dotnet add package TorchSharp-cpu
#
# in a brand-new folder OUTSIDE the repository (its own empty Directory.Build.props/.targets/Directory.Packages.props, so
# nothing of the repository's build reaches the app).
#
#   1. Without FashionVision.targets imported: where the system's libstdc++ lacks GLIBCXX_3.4.32 (Debian 12, Ubuntu 22.04),
#      the app's first calls into the library (a dataset source's Load, ModelZoo.Create) must fail with the library's own
#      explanation (the unpatched file, the <Import> that fixes it, the MSBuild property), never with TorchSharp's bare
#      TypeInitializationException. Where the system has the version, the app simply works.
#   2. With <Import Project=".../src/FashionVision/buildTransitive/FashionVision.targets" /> added, as docs and the
#      explanation say: the app's copy of libLibTorchSharp.so is patched (where needed), and the app trains a zoo model with
#      the Trainer on real Fashion-MNIST images and evaluates it.
#
# Prints "PROJECT REFERENCE SMOKE TEST PASSED" on success; exits non-zero with a reason otherwise.
# Usage: eng/project-reference-smoke-test.sh [--keep]   (FASHIONVISION_SMOKE_DIR overrides the temporary folder)
set -euo pipefail

source "$(dirname "$0")/smoke-lib.sh"
keep=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

smoke_setup "PROJECT REFERENCE SMOKE TEST" fashionvision-projref
smoke_isolate "$work"

app="$work/app"
mkdir -p "$app"
cd "$app"
step "dotnet new console"
dotnet new console --framework net10.0 --name RefApp --output . >"$work/new.log" 2>&1 || { cat "$work/new.log" >&2; fail "dotnet new console"; }
step "dotnet add reference src/FashionVision/FashionVision.csproj"
dotnet add reference "$root/src/FashionVision/FashionVision.csproj" >"$work/add.log" 2>&1 || { cat "$work/add.log" >&2; fail "dotnet add reference"; }
step "dotnet add package TorchSharp-cpu 0.107.0"
dotnet add package TorchSharp-cpu --version 0.107.0 >>"$work/add.log" 2>&1 || { cat "$work/add.log" >&2; fail "dotnet add package TorchSharp-cpu"; }

cat >Program.cs <<'EOF'
// A user's first program against the library's source: each entry point in turn, then a short real training run.
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;
using FashionVision.Training;

bool ok = true;
InMemoryDataset? train = null, test = null;
ImageClassifier? model = null;
// (Take gives views of the full sets, which stay alive with the process.)
void Entry(string name, Action call)
{
    try
    {
        call();
        Console.WriteLine($"ENTRY {name} OK");
    }
    catch (InvalidOperationException e) when (e.Message.StartsWith("libtorch could not be loaded."))
    {
        ok = false;
        Console.WriteLine($"ENTRY {name} EXPLAINED {e.Message}");
    }
    catch (Exception e)
    {
        ok = false;
        Console.WriteLine($"ENTRY {name} RAW {e.GetType().Name}: {e.Message}");
    }
}

var source = new FashionMnistSource(new DatasetOptions { AllowDownload = false });
Entry("dataset", () =>
{
    train = source.Load(DatasetSplit.Train).Take(1200);
    test = source.Load(DatasetSplit.Test).Take(500);
});
Entry("zoo", () => model = ModelZoo.Create("lenet5", new ModelOptions { Seed = 7 }));
if (!ok)
    return 3;

using var trainer = new Trainer(model!, new TrainerOptions { Epochs = 2, BatchSize = 50, Seed = 7, Optimizer = new OptimizerOptions { LearningRate = 3e-3 } });
trainer.Fit(train!);
var result = Evaluator.Evaluate(model!, test!, new EvaluatorOptions { Normalization = trainer.Normalization });
Console.WriteLine($"SMOKE steps={trainer.GlobalStep} test-accuracy={result.Accuracy:0.000}");
return 0;
EOF

system_has_version=0
if system_has_glibcxx_3_4_32; then system_has_version=1; fi

# ------------------------------------------------------------------------------------------- 1. without the targets
step "dotnet run (no FashionVision.targets imported)"
set +e
dotnet run -c Release >"$work/run-plain.log" 2>&1
plain_status=$?
set -e
cat "$work/run-plain.log"
grep -q 'ENTRY .* RAW ' "$work/run-plain.log" && fail "an entry point failed with another library's exception, not FashionVision's explanation"
if [ "$system_has_version" -eq 0 ]; then
  [ "$plain_status" -eq 3 ] || fail "expected the app to stop at its entry points (exit 3), got $plain_status"
  for entry in dataset zoo; do
    line="$(grep "^ENTRY $entry EXPLAINED " "$work/run-plain.log")" || fail "the $entry entry point did not explain the failure"
    for needle in 'GLIBCXX_3.4.32' 'was not patched' 'src/FashionVision/buildTransitive/FashionVision.targets' '<Import Project=' 'FashionVisionPatchLibTorchSharp'; do
      grep -qF "$needle" <<<"$line" || fail "the $entry explanation does not mention $needle"
    done
  done
  echo "unpatched app: explained"
else
  [ "$plain_status" -eq 0 ] || fail "this system's libstdc++ has GLIBCXX_3.4.32, so the app should run without the targets"
fi

# ---------------------------------------------------------------------------------------------- 2. with the targets
step "import FashionVision.targets, dotnet run"
sed -i "s#</Project>#  <Import Project=\"$root/src/FashionVision/buildTransitive/FashionVision.targets\" />\n</Project>#" RefApp.csproj
grep -q 'buildTransitive/FashionVision.targets' RefApp.csproj || fail "could not add the Import to RefApp.csproj"
dotnet run -c Release >"$work/run.log" 2>&1 || { cat "$work/run.log" >&2; fail "the app with the targets imported did not run"; }
cat "$work/run.log"
grep -q '^ENTRY dataset OK$' "$work/run.log" && grep -q '^ENTRY zoo OK$' "$work/run.log" || fail "an entry point failed with the targets imported"
smoke_check_result "$work/run.log" 48   # 2 epochs of 24 batches

lib="$(find "$app/bin/Release" -path '*linux-x64/native/libLibTorchSharp.so' | head -n 1)"
[ -n "$lib" ] || fail "no libLibTorchSharp.so in the app's output"
if [ "$system_has_version" -eq 0 ] && command -v readelf >/dev/null 2>&1; then
  grep 'GLIBCXX_3.4.32' <<<"$(readelf -V "$lib")" | grep -q 'WEAK' || fail "the app's libLibTorchSharp.so was not patched"
fi
echo "PROJECT REFERENCE SMOKE TEST PASSED (accuracy $accuracy)"
