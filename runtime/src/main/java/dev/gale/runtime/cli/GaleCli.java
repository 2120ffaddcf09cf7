package dev.gale.runtime.cli;

public final class GaleCli {
    public static void main(String[] args) {
    }
}
