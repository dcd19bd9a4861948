import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { StatusBadge } from "./StatusBadge";

describe("StatusBadge", () => {
  it("always carries a text label, never colour alone", () => {
    render(<StatusBadge status="RequiresPruning" />);
    const badge = screen.getByText("Requires pruning");
    expect(badge.getAttribute("data-status")).toBe("RequiresPruning");
    expect(badge.className).toContain("badge-warn");
  });
});
