using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FashionVision.AspNetCore;

/// <summary>Registers what <see cref="FashionVisionEndpoints.MapFashionVision"/> needs.</summary>
public static class FashionVisionServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="FashionVisionServerOptions"/> from <paramref name="configuration"/> (usually the
    /// <see cref="FashionVisionServerOptions.SectionName"/> section), registers <see cref="ServedModels"/> and loads the
    /// models when the app starts, and adds problem details so that errors outside the endpoints are JSON too.
    /// </summary>
    public static IServiceCollection AddFashionVision(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<FashionVisionServerOptions>().Bind(configuration);
        services.AddSingleton<ServedModels>();
        services.AddHostedService<ModelLoader>();
        services.AddProblemDetails();
        return services;
    }

    /// <summary>Loads the models at start-up (resolving <see cref="ServedModels"/> loads them).</summary>
    private sealed class ModelLoader(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            services.GetRequiredService<ServedModels>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
