namespace FashionVision.Models;

/// <summary>Maps the state-dict keys of torchvision models (and of common wrappers around them) to the zoo's names.</summary>
public static class TorchvisionNames
{
    private static readonly string[] WrapperPrefixes = { "module.", "model.", "_orig_mod." };

    /// <summary>
    /// Maps a key of torchvision's <c>resnet18</c> state dict to the key of the zoo's <c>resnet18-imagenet</c> (and
    /// <c>resnet18</c>, whose names are the same): the identity — the zoo uses torchvision's names, <c>conv1</c>, <c>bn1</c>,
    /// <c>layer1.0.conv1</c> … <c>fc</c>, including each BatchNorm's <c>num_batches_tracked</c> — after stripping the prefixes
    /// that <c>DataParallel</c> (<c>module.</c>), Lightning-style wrappers (<c>model.</c>) and <c>torch.compile</c>
    /// (<c>_orig_mod.</c>) add.
    /// </summary>
    /// <param name="key">A torchvision key.</param>
    /// <returns>The zoo key.</returns>
    public static string ResNet18(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        bool stripped;
        do
        {
            stripped = false;
            foreach (var prefix in WrapperPrefixes)
            {
                if (key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    key = key[prefix.Length..];
                    stripped = true;
                }
            }
        }
        while (stripped);
        return key;
    }
}
