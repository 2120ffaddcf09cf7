package dev.gale.tornado.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;
import uk.ac.manchester.tornado.api.enums.TornadoVMBackendType;

/** The CUDA-graph switch and the backends it applies to. */
class CudaGraphsTest {

    @Test
    void switchIsOnUnlessSetToFalse() {
        assertTrue(CudaGraphs.requested(null));
        assertTrue(CudaGraphs.requested("true"));
        assertTrue(CudaGraphs.requested("TRUE"));
        assertFalse(CudaGraphs.requested("false"));
        assertFalse(CudaGraphs.requested("False"));
    }

    @Test
    void anyOtherValueIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaGraphs.requested("off"));
        assertEquals("-Dgale.tornado.cudaGraphs must be true or false, not 'off'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudaGraphs.requested(""));
    }

    @Test
    void onlyPtxAndCudaBackendsCaptureGraphs() {
        assumeTrue(ModuleLayer.boot().findModule("tornado.api").isPresent(), "TornadoVM's API is not on the module path");
        assertTrue(CudaGraphs.supports(TornadoVMBackendType.PTX));
        assertTrue(CudaGraphs.supports(TornadoVMBackendType.CUDA));
        assertFalse(CudaGraphs.supports(TornadoVMBackendType.OPENCL));
        assertFalse(CudaGraphs.supports(TornadoVMBackendType.SPIRV));
        assertFalse(CudaGraphs.supports(TornadoVMBackendType.METAL));
    }
}
