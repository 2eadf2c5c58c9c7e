package graft.picture;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/** A picture's boxes and edges read back from its markup through the data- attributes. */
record PictureDom(Map<String, Element> boxes, Set<String> edges) {
    /** Parses SVG text as XML (a namespace-aware parser: malformed markup throws). */
    static PictureDom parseSvg(String svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        Document d = f.newDocumentBuilder().parse(new InputSource(new StringReader(svg)));
        return of(d.getElementsByTagNameNS("http://www.w3.org/2000/svg", "g"),
                d.getElementsByTagNameNS("http://www.w3.org/2000/svg", "path"));
    }

    static PictureDom of(NodeList groups, NodeList paths) {
        Map<String, Element> boxes = new LinkedHashMap<>();
        for (int i = 0; i < groups.getLength(); i++) {
            Element e = (Element) groups.item(i);
            if (e.getAttribute("class").equals("box")) {
                if (boxes.put(e.getAttribute("data-layer"), e) != null) {
                    throw new AssertionError("two boxes for " + e.getAttribute("data-layer"));
                }
            }
        }
        Set<String> edges = new LinkedHashSet<>();
        for (int i = 0; i < paths.getLength(); i++) {
            Element e = (Element) paths.item(i);
            if (e.getAttribute("class").equals("edge")) {
                edges.add(e.getAttribute("data-from") + " -> " + e.getAttribute("data-to"));
            }
        }
        return new PictureDom(boxes, edges);
    }

    List<String> layers() {
        return new ArrayList<>(boxes.keySet());
    }

    /** The fill of a box's rectangle. */
    String fill(String layer) {
        Element g = boxes.get(layer);
        NodeList r = g.getElementsByTagNameNS("*", "rect");
        if (r.getLength() == 0) {
            r = g.getElementsByTagName("rect");
        }
        return ((Element) r.item(0)).getAttribute("fill");
    }
}
