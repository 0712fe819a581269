using TorchSharp;
using TorchSharp.Modules;

namespace FashionVision.Training;

/// <summary>Serialises optimizer state (TorchSharp's own encoding, plus Lookahead's slow weights) for checkpoints.</summary>
internal static class OptimizerState
{
    public static byte[] ToBytes(torch.optim.Optimizer optimizer)
    {
        using var memory = new MemoryStream();
        using (var writer = new BinaryWriter(memory, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            switch (optimizer)
            {
                case Lookahead lookahead:
                    writer.Write("Lookahead");
                    Helper(lookahead.Inner).save_state_dict(writer);
                    lookahead.SaveState(writer);
                    break;
                default:
                    writer.Write("Plain");
                    Helper(optimizer).save_state_dict(writer);
                    break;
            }
        }
        return memory.ToArray();
    }

    public static void Load(torch.optim.Optimizer optimizer, byte[] bytes, string path)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
            string kind = reader.ReadString();
            switch (optimizer, kind)
            {
                case (Lookahead lookahead, "Lookahead"):
                    Helper(lookahead.Inner).load_state_dict(reader);
                    lookahead.LoadState(reader);
                    break;
                case (not Lookahead, "Plain"):
                    Helper(optimizer).load_state_dict(reader);
                    break;
                default:
                    throw new InvalidDataException(kind == "Lookahead"
                        ? "the checkpoint's optimizer is wrapped in Lookahead but this run's is not."
                        : "this run's optimizer is wrapped in Lookahead but the checkpoint's is not.");
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException)
        {
            throw new CheckpointMismatchException($"The optimizer state in '{path}' does not fit this run's optimizer ({optimizer.GetType().Name}): {e.Message}",
                Array.Empty<string>(), Array.Empty<string>(), Array.Empty<string>());
        }
    }

    private static OptimizerHelper Helper(torch.optim.Optimizer optimizer) =>
        optimizer as OptimizerHelper ?? throw new NotSupportedException($"Optimizer {optimizer.GetType().Name} cannot be checkpointed: only TorchSharp's managed optimizers (SGD, Adam, AdamW, …) and Lookahead can.");
}
