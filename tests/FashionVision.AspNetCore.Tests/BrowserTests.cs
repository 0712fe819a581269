using FashionVision.Imaging;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Interactions;
using OpenQA.Selenium.Support.UI;

namespace FashionVision.AspNetCore.Tests;

/// <summary>
/// The page in a real browser: Debian's headless Chromium driven by Selenium through Debian's chromedriver (nothing is
/// downloaded), against the web app on a real socket on 127.0.0.1. The one browser test of the suite; it leaves a screenshot
/// (webapp.png) in the test's output folder and attaches it to the test result.
/// </summary>
public sealed class BrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    private const string ChromeDriver = "/usr/bin/chromedriver";

    [Test]
    public void ThePageClassifiesAnUploadedPhotoAndADrawnDigit()
    {
        if (!File.Exists(Chromium) || !File.Exists(ChromeDriver))
        {
            const string missing = "Chromium is not installed: apt-get install -y chromium chromium-driver (.ci/run does).";
            if (Environment.GetEnvironmentVariable("CI") == "true")
                Assert.Fail(missing);
            Assert.Ignore(missing);
        }

        using var factory = new WebAppFactory(kestrel: true);
        factory.StartServer();
        var url = factory.ClientOptions.BaseAddress;
        Assert.That(url.Host, Is.EqualTo("127.0.0.1").Or.EqualTo("localhost"));

        var work = Path.Combine(Path.GetTempPath(), "fv-browser-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            // A "photo": a real test image (an ankle boot), enlarged, dark on white as a photo on a table would be.
            var photo = TestImages.Png(0, size: 140, photo: true);
            var photoPath = Path.Combine(work, "ankle-boot.png");
            File.WriteAllBytes(photoPath, photo);
            string expected;
            using (var predictor = WebAppFactory.LoadPredictor("fashion"))
                expected = predictor.PredictImage(photo, ImageDecodeOptions.FashionMnist).ClassName;

            using var driver = StartChromium(Path.Combine(work, "profile"));
            var wait = new WebDriverWait(driver, TimeSpan.FromSeconds(60));
            driver.Navigate().GoToUrl(url);
            wait.Until(d => d.FindElement(By.Id("models")).Text.Contains("fashion"));

            // Upload the photo: the page shows the top-1 the predictor gives, three classes, and the Grad-CAM overlay.
            driver.FindElement(By.Id("photo-input")).SendKeys(photoPath);
            wait.Until(d => d.FindElement(By.TagName("body")).GetAttribute("data-photo-done") == "1");
            wait.Until(d => d.FindElement(By.Id("photo-gradcam")).Displayed);
            Assert.Multiple(() =>
            {
                Assert.That(driver.FindElement(By.Id("photo-top1")).Text, Is.EqualTo(expected));
                Assert.That(driver.FindElements(By.CssSelector("#photo-top li")), Has.Count.EqualTo(3));
                Assert.That(driver.FindElement(By.Id("error")).Displayed, Is.False);
            });

            // Draw a "7" with the pointer on the canvas and classify it with the digits model.
            var canvas = driver.FindElement(By.Id("digit-canvas"));
            new Actions(driver)
                .MoveToElement(canvas, -70, -80).ClickAndHold()
                .MoveByOffset(35, 0).MoveByOffset(35, 0).MoveByOffset(35, 0).MoveByOffset(35, 0)
                .MoveByOffset(-20, 40).MoveByOffset(-20, 40).MoveByOffset(-20, 40).MoveByOffset(-20, 40)
                .Release().Perform();
            driver.FindElement(By.Id("digit-classify")).Click();
            wait.Until(d => d.FindElement(By.TagName("body")).GetAttribute("data-digit-done") == "1");
            Assert.Multiple(() =>
            {
                Assert.That(driver.FindElement(By.Id("digit-top1")).Text, Is.AnyOf(Data.MnistSource.Classes.ToArray()));
                Assert.That(driver.FindElements(By.CssSelector("#digit-top li")), Has.Count.EqualTo(3));
                Assert.That(driver.FindElement(By.Id("error")).Displayed, Is.False);
            });

            var screenshot = Path.Combine(TestContext.CurrentContext.WorkDirectory, "webapp.png");
            ((ITakesScreenshot)driver).GetScreenshot().SaveAsFile(screenshot);
            TestContext.AddTestAttachment(screenshot, "The page after a photo and a drawn digit");
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static ChromeDriver StartChromium(string profile)
    {
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
            "--window-size=1100,900", $"--user-data-dir={profile}");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(120));
    }
}
