using System.Globalization;
using SkiaSharp;

namespace WebSsl.Training.Synthesis;

/// <summary>What a chart or table is about: the things along one axis, and what is measured for them.</summary>
internal sealed record Dimension(string Name, string Plural, string[] Labels, bool Ordered);

/// <summary>A measured quantity: name, the unit in its axis title, the range and decimals of its values, and whether values print with "%".</summary>
internal sealed record Measure(string Name, string Unit, decimal Min, decimal Max, int Decimals, bool Percent = false);

/// <summary>Word banks and value generation for the synthetic data. Everything is drawn from the sample's own Random.</summary>
internal static class SynthContent
{
    public static readonly Dimension[] Dimensions =
    [
        new("Month", "months", ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], true),
        new("Year", "years", ["2015", "2016", "2017", "2018", "2019", "2020", "2021", "2022", "2023", "2024", "2025", "2026"], true),
        new("Quarter", "quarters", ["Q1 2023", "Q2 2023", "Q3 2023", "Q4 2023", "Q1 2024", "Q2 2024", "Q3 2024", "Q4 2024", "Q1 2025", "Q2 2025", "Q3 2025", "Q4 2025"], true),
        new("Region", "regions", ["North", "South", "East", "West", "Central", "Coast", "Valley", "Islands", "Highlands", "Metro", "Rural", "Border"], false),
        new("Product", "products", ["Laptops", "Phones", "Tablets", "Monitors", "Printers", "Cameras", "Speakers", "Routers", "Keyboards", "Headsets", "Drives", "Chargers"], false),
        new("Country", "countries", ["France", "Japan", "Brazil", "Canada", "India", "Kenya", "Mexico", "Norway", "Spain", "Chile", "Egypt", "Peru"], false),
        new("Department", "departments", ["Sales", "Finance", "Legal", "Support", "Research", "Marketing", "Operations", "Design", "Logistics", "Training", "Security", "Quality"], false),
        new("City", "cities", ["Lyon", "Osaka", "Denver", "Porto", "Leeds", "Malmo", "Austin", "Turin", "Hobart", "Quito", "Accra", "Perth"], false),
    ];

    public static readonly Measure[] Measures =
    [
        new("Revenue", "million $", 1.5m, 95m, 1),
        new("Profit", "thousand $", 12m, 480m, 0),
        new("Sales", "units", 40m, 2400m, 0),
        new("Visitors", "thousands", 3m, 180m, 1),
        new("Downloads", "thousands", 5m, 950m, 0),
        new("Orders", "orders", 20m, 860m, 0),
        new("Rainfall", "mm", 4m, 210m, 1),
        new("Temperature", "°C", 2m, 34m, 1),
        new("Energy use", "MWh", 0.8m, 65m, 2),
        new("Market share", "%", 2m, 48m, 1, Percent: true),
        new("Growth rate", "%", 0.5m, 22m, 1, Percent: true),
        new("Response time", "ms", 35m, 900m, 0),
    ];

    public static readonly string[] SeriesNames = ["Plan", "Actual", "Target", "Forecast", "Last year", "This year", "Online", "In store"];

    public static readonly SKColor[] Palette =
    [
        new(0x1F, 0x77, 0xB4), new(0xFF, 0x7F, 0x0E), new(0x2C, 0xA0, 0x2C), new(0xD6, 0x27, 0x28), new(0x94, 0x67, 0xBD),
        new(0x8C, 0x56, 0x4B), new(0xE3, 0x77, 0xC2), new(0x17, 0xBE, 0xCF), new(0xBC, 0xBD, 0x22), new(0x3B, 0x4C, 0xC0),
        new(0x00, 0x7A, 0x5E), new(0xB8, 0x5C, 0x00),
    ];

    public static readonly SKColor[] Backgrounds = [SKColors.White, new(0xFA, 0xFA, 0xF7), new(0xF4, 0xF6, 0xFA), new(0xFF, 0xFB, 0xF0), new(0xF7, 0xF7, 0xF7)];

    public static readonly SKColor[] Inks = [new(0x22, 0x22, 0x22), new(0x1A, 0x23, 0x3A), new(0x33, 0x2B, 0x24), SKColors.Black];

    public static T Pick<T>(this Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    /// <summary><paramref name="count"/> distinct items, in their original order when <paramref name="keepOrder"/> (months stay in order).</summary>
    public static T[] PickDistinct<T>(this Random random, IReadOnlyList<T> items, int count, bool keepOrder)
    {
        if (keepOrder)
        {
            int start = random.Next(items.Count - count + 1);
            return items.Skip(start).Take(count).ToArray();
        }
        return items.OrderBy(_ => random.Next()).Take(count).ToArray();
    }

    /// <summary>Distinct values in the measure's range, rounded to its decimals (distinct so that max/min/compare have one answer).</summary>
    public static decimal[] Values(this Random random, Measure measure, int count)
    {
        var values = new List<decimal>();
        while (values.Count < count)
        {
            decimal v = Math.Round(measure.Min + (measure.Max - measure.Min) * (decimal)random.NextDouble(), measure.Decimals, MidpointRounding.AwayFromZero);
            if (!values.Contains(v))
            {
                values.Add(v);
            }
        }
        return values.ToArray();
    }

    /// <summary>A value as printed on the image and expected as the answer: invariant culture, fixed decimals, "%" for percentages.</summary>
    public static string Format(decimal value, int decimals, bool percent = false) =>
        value.ToString("F" + decimals, CultureInfo.InvariantCulture) + (percent ? "%" : "");

    public static string Format(decimal value, Measure measure) => Format(value, measure.Decimals, measure.Percent);

    public static string Title(this Random random, Measure measure, Dimension dimension) => random.Next(4) switch
    {
        0 => $"{measure.Name} by {dimension.Name}",
        1 => $"{measure.Name} per {dimension.Name.ToLowerInvariant()}",
        2 => $"{dimension.Name} {measure.Name.ToLowerInvariant()} overview",
        _ => $"{measure.Name} across {dimension.Plural}",
    };

    public static string AxisTitle(Measure measure) => $"{measure.Name} ({measure.Unit})";

    // Documents and receipts.
    public static readonly string[] Companies = ["Northwind Traders", "Blue Harbor Ltd", "Acme Supplies", "Greenfield Farms", "Orion Logistics",
        "Summit Print Co", "Maple & Birch", "Silverline Tech", "Redwood Clinic", "Cobalt Studio", "Harbor Foods", "Pioneer Tools"];
    public static readonly string[] People = ["Ana Souza", "Kenji Mori", "Lena Fischer", "Omar Haddad", "Priya Nair", "Tom Becker", "Sara Lind",
        "Diego Ruiz", "Mei Chen", "Ivan Petrov", "Grace Okafor", "Luca Romano"];
    public static readonly string[] Streets = ["12 Elm Street", "48 Harbor Road", "7 Station Square", "230 Main Avenue", "5 Mill Lane", "91 Park Row"];
    public static readonly string[] DocumentTitles = ["Invoice", "Purchase Order", "Delivery Note", "Quotation", "Expense Report", "Service Receipt"];
    public static readonly string[] Subjects = ["The shipment", "Our team", "The customer", "This order", "The new system", "The contract", "The warehouse", "Each invoice"];
    public static readonly string[] Verbs = ["arrived", "was approved", "will be reviewed", "needs a signature", "was delivered", "was updated", "is due", "was paid"];
    public static readonly string[] Tails = ["on Monday", "before noon", "last week", "by the end of the month", "after the audit", "in two parts", "without delays", "as agreed"];
    public static readonly string[] Items = ["Coffee", "Bagel", "Orange juice", "Notebook", "Pens", "Batteries", "Sandwich", "Water", "Tea", "Muffin",
        "Soap", "Apples", "Bread", "Milk", "Cheese", "Rice", "Pasta", "Tomatoes", "Eggs", "Yogurt"];

    public static string Sentence(this Random random) => $"{random.Pick(Subjects)} {random.Pick(Verbs)} {random.Pick(Tails)}.";

    public static string Date(this Random random) => new DateOnly(2019 + random.Next(8), 1 + random.Next(12), 1 + random.Next(28)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Code(this Random random, string prefix) => $"{prefix}-{random.Next(10000, 99999)}";

    public static decimal Money(this Random random, decimal min, decimal max) => Math.Round(min + (max - min) * (decimal)random.NextDouble(), 2, MidpointRounding.AwayFromZero);
}
