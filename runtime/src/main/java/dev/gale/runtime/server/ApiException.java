package dev.gale.runtime.server;

/**
 * A request the server refuses, answered with an OpenAI-style error body
 * {@code {"error": {"message", "type", "param", "code"}}}.
 */
public class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public ApiException(int status, String type, String message, String param, String code) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** A 400 invalid_request_error about {@code param}. */
    public static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", message, param, null);
    }

    /** A 400 invalid_request_error about {@code param} with a machine-readable code. */
    public static ApiException invalid(String param, String code, String message) {
        return new ApiException(400, "invalid_request_error", message, param, code);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }
}
