namespace FashionVision.TorchVision.Weights;

/// <summary>The formats <see cref="PyTorchWeights"/> reads; recognised by the file's first bytes, not its extension.</summary>
public enum WeightFileFormat
{
    /// <summary>PyTorch's <c>torch.save(model.state_dict(), "x.pth")</c>: a zip archive holding a pickle and the tensor storages (PyTorch ≥ 1.6), read by TorchSharp.PyBridge.</summary>
    PyTorchPickle,

    /// <summary>Hugging Face safetensors: a length-prefixed JSON header and the raw tensors.</summary>
    SafeTensors,

    /// <summary>TorchSharp's own <c>Module.save</c> format (what <see cref="FashionVision.Models.ModelWeights.Save"/> writes).</summary>
    TorchSharp,
}
