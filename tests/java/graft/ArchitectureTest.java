package graft;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pipeline stays visible, checked on the compiled classes (ArchUnit reads the bytecode, so a
 * fully-qualified name in the middle of a method counts as much as an import; the earlier test
 * matched import lines and missed 211 of them): the IR knows only its errors; the pure-Java
 * executor knows only the IR; nothing but the command line knows the command line; the format
 * converters know no other converter; validation knows no format. The package dependency list is
 * written to {@code target/architecture/packages.txt} (one line per package: what it uses).
 */
class ArchitectureTest {
    static JavaClasses main;

    @BeforeAll
    static void load() {
        main = new ClassFileImporter().importPath(TestPaths.root().resolve("target/classes"));
        assertThat(main).as("graft's compiled classes").hasSizeGreaterThan(100);
    }

    static void check(ArchRule rule) {
        rule.check(main);
    }

    @Test
    void irUsesOnlyItsErrors() {
        check(classes().that().resideInAPackage("graft.ir..").should().onlyDependOnClassesThat()
                .resideInAnyPackage("graft.ir..", "graft.error..", "java..")
                .because("the IR is the format-free middle of the pipeline"));
    }

    @Test
    void theReferenceExecutorUsesOnlyTheIr() {
        check(classes().that().resideInAPackage("graft.exec..").should().onlyDependOnClassesThat()
                .resideInAnyPackage("graft.exec..", "graft.ir..", "graft.error..", "java..")
                .because("the pure-Java executor is an oracle independent of ONNX Runtime and of every format"));
    }

    @Test
    void nothingButTheCommandLineUsesIt() {
        check(noClasses().that().resideOutsideOfPackage("graft.cli..").should().dependOnClassesThat()
                .resideInAPackage("graft.cli..").because("the commands are thin: the library never calls back into them"));
    }

    @Test
    void convertersKnowNoOtherConverter() {
        for (String fmt : List.of("onnx", "keras", "caffe")) {
            List<String> others = List.of("onnx", "keras", "caffe").stream().filter(o -> !o.equals(fmt)).map(o -> "graft." + o + "..").toList();
            check(noClasses().that().resideInAPackage("graft." + fmt + "..").should().dependOnClassesThat()
                    .resideInAnyPackage(others.toArray(String[]::new)).because("each format reads and writes through the IR only"));
        }
    }

    @Test
    void validationKnowsNoFormatNoSurgeryNoTraining() {
        check(noClasses().that().resideInAPackage("graft.validate..").should().dependOnClassesThat()
                .resideInAnyPackage("graft.onnx..", "graft.keras..", "graft.caffe..", "graft.surgery..", "graft.train..")
                .because("every format graft reads is compared the same way"));
    }

    @Test
    void writesThePackageDependencyList() throws IOException {
        Map<String, TreeSet<String>> uses = new TreeMap<>();
        for (JavaClass c : main) {
            String from = c.getPackageName();
            if (!from.startsWith("graft")) {
                continue;
            }
            TreeSet<String> set = uses.computeIfAbsent(from, k -> new TreeSet<>());
            for (Dependency d : c.getDirectDependenciesFromSelf()) {
                String to = d.getTargetClass().getPackageName();
                if (to.startsWith("graft") && !to.equals(from)) {
                    set.add(to);
                }
            }
        }
        StringBuilder b = new StringBuilder();
        uses.forEach((k, v) -> b.append(k).append(" -> ").append(String.join(", ", v)).append('\n'));
        Path out = TestPaths.root().resolve("target/architecture/packages.txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, b);
        assertThat(uses.get("graft.ir")).as("graft.ir uses").isSubsetOf("graft.error");
    }
}
