package dev.gale.runtime.bench;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import javax.imageio.ImageIO;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.labels.CategoryItemLabelGenerator;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.CategoryDataset;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Bar charts of a {@link BenchReport} as PNG: one image per figure (decode and prefill throughput), one panel per
 * model with its own scale (a 1B model and a 260K one differ a thousandfold), one bar per backend, device and thread
 * count, each target in the same colour in every panel, the median written at the end of its bar with the range.
 */
public final class BenchCharts {
    private static final int WIDTH = 1100;
    private static final int HEADER = 96;
    private static final int BAR = 44;
    private static final int PANEL_EXTRA = 120;
    /** Tableau 10: distinct, colour-blind-friendly hues. */
    private static final Color[] PALETTE = {new Color(0x4E79A7), new Color(0xF28E2B), new Color(0x59A14F),
            new Color(0xE15759), new Color(0x76B7B2), new Color(0xB07AA1), new Color(0xEDC948), new Color(0xFF9DA7),
            new Color(0x9C755F), new Color(0xBAB0AC)};
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 20);
    private static final Font SUBTITLE = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    private static final Font PANEL_TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 15);
    private static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 13);

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private BenchCharts() {}

    /** Writes {@code decode.png} and {@code prefill.png} into {@code dir}; returns their paths. */
    public static List<Path> write(BenchReport report, Path dir) throws IOException {
        BenchSettings s = report.settings();
        String runs = "median of " + s.reps() + (s.reps() == 1 ? " run" : " runs, min–max in brackets");
        String machine = report.machine().cpu() + ", " + report.machine().cores() + " cores, Java "
                + report.machine().jdk();
        int longest = s.promptTokens().getLast();
        Path decode = dir.resolve("decode.png");
        draw(report, "Decode throughput (tokens/s, higher is better)",
                List.of("greedy decoding of " + s.decodeTokens() + " tokens after a " + s.promptTokens().getFirst()
                        + "-token prompt · " + runs, machine),
                BenchResult::decodeTokensPerSecond, decode);
        Path prefill = dir.resolve("prefill.png");
        draw(report, "Prefill throughput (tokens/s, higher is better)",
                List.of(longest + "-token prompts · " + runs, machine),
                r -> r.longestPrompt().prefillTokensPerSecond(), prefill);
        return List.of(decode, prefill);
    }

    private static void draw(BenchReport report, String title, List<String> subtitle,
                             Function<BenchResult, Stats> figure, Path file) throws IOException {
        Map<String, Color> colours = new LinkedHashMap<>();
        Map<String, List<BenchResult>> byModel = new LinkedHashMap<>();
        for (BenchResult r : report.results()) {
            colours.computeIfAbsent(r.target().label(), k -> PALETTE[colours.size() % PALETTE.length]);
            byModel.computeIfAbsent(r.model().label(), k -> new ArrayList<>()).add(r);
        }
        List<JFreeChart> panels = new ArrayList<>();
        List<Integer> heights = new ArrayList<>();
        int height = HEADER;
        for (Map.Entry<String, List<BenchResult>> e : byModel.entrySet()) {
            panels.add(panel(e.getKey(), e.getValue(), figure, colours));
            int h = PANEL_EXTRA + BAR * e.getValue().size();
            heights.add(h);
            height += h;
        }
        height = Math.max(height, HEADER + PANEL_EXTRA);
        BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, height);
            g.setColor(Color.BLACK);
            g.setFont(TITLE);
            g.drawString(title, 16, 32);
            g.setFont(SUBTITLE);
            g.setColor(Color.DARK_GRAY);
            for (int i = 0; i < subtitle.size(); i++) {
                g.drawString(subtitle.get(i), 16, 56 + 18 * i);
            }
            if (panels.isEmpty()) {
                g.drawString("no results", 16, HEADER + 30);
            }
            int y = HEADER;
            for (int i = 0; i < panels.size(); i++) {
                panels.get(i).draw(g, new Rectangle2D.Double(0, y, WIDTH, heights.get(i)));
                y += heights.get(i);
            }
        } finally {
            g.dispose();
        }
        if (!ImageIO.write(image, "png", file.toFile())) {
            throw new IOException("no PNG writer available to write " + file);
        }
    }

    /** One model: a horizontal bar per target. */
    private static JFreeChart panel(String model, List<BenchResult> results, Function<BenchResult, Stats> figure,
                                    Map<String, Color> colours) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        List<Stats> stats = new ArrayList<>();
        List<Color> barColours = new ArrayList<>();
        for (BenchResult r : results) {
            Stats s = figure.apply(r);
            data.addValue(s.median(), "median", r.target().label());
            stats.add(s);
            barColours.add(colours.get(r.target().label()));
        }
        BarRenderer renderer = new BarRenderer() {
            @Override
            public java.awt.Paint getItemPaint(int row, int column) {
                return barColours.get(column);
            }
        };
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setMaximumBarWidth(0.7);
        renderer.setDefaultItemLabelGenerator(new ValueLabels(stats));
        renderer.setDefaultItemLabelsVisible(true);
        renderer.setDefaultItemLabelFont(LABEL);
        renderer.setDefaultPositiveItemLabelPosition(
                new ItemLabelPosition(ItemLabelAnchor.OUTSIDE3, TextAnchor.CENTER_LEFT));

        CategoryAxis targets = new CategoryAxis(null);
        targets.setTickLabelFont(LABEL);
        targets.setCategoryMargin(0.25);
        targets.setMaximumCategoryLabelWidthRatio(0.35f);
        NumberAxis value = new NumberAxis("tokens per second");
        value.setLabelFont(LABEL);
        value.setTickLabelFont(LABEL);
        value.setUpperMargin(0.3);
        CategoryPlot plot = new CategoryPlot(data, targets, value, renderer);
        plot.setOrientation(PlotOrientation.HORIZONTAL);
        plot.setRangeAxisLocation(AxisLocation.BOTTOM_OR_LEFT);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        plot.setOutlineVisible(false);
        plot.setInsets(new RectangleInsets(4, 8, 4, 24));
        JFreeChart chart = new JFreeChart(null, null, plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        TextTitle heading = new TextTitle(model, PANEL_TITLE);
        heading.setPosition(org.jfree.chart.ui.RectangleEdge.TOP);
        heading.setHorizontalAlignment(org.jfree.chart.ui.HorizontalAlignment.LEFT);
        heading.setPadding(new RectangleInsets(10, 16, 2, 0));
        chart.setTitle(heading);
        return chart;
    }

    /** The median at the end of each bar, with the min–max range when it spans more than one value. */
    private record ValueLabels(List<Stats> stats) implements CategoryItemLabelGenerator {
        @Override
        public String generateLabel(CategoryDataset dataset, int row, int column) {
            return BenchFormat.stats(stats.get(column));
        }

        @Override
        public String generateRowLabel(CategoryDataset dataset, int row) {
            return dataset.getRowKey(row).toString();
        }

        @Override
        public String generateColumnLabel(CategoryDataset dataset, int column) {
            return dataset.getColumnKey(column).toString();
        }
    }
}
