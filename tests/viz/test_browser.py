"""The HTML pages in a real browser: headless chromium opening the saved files from file://.

Checks what a user does: the player steps through one frame per op the engine ran and
ends on the completed graph; clicking a node shows its statistics; folding a module
call hides its nodes; search finds a node; nothing is logged to the console as an error;
a screenshot is not blank. See conftest.py for how chromium is started (no download).
"""

from __future__ import annotations

import io
import time

import pytest
from chromium import console_errors, open_page

from graphkit.autograd import observe
from graphkit.cli.model_graphs import model_loss
from graphkit.viz import animate, to_html

pytestmark = pytest.mark.usefixtures("browser")


def css(browser, selector):
    return browser.find_elements("css selector", selector)


def assert_not_blank(browser):
    from PIL import Image

    image = Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB")
    colours = image.getcolors(1 << 20)
    assert colours is not None and len(colours) > 20, "the screenshot is (nearly) one colour"
    white = max(count for count, colour in colours if colour == (255, 255, 255))
    assert white < 0.97 * image.width * image.height


def wait_until(condition, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the page")


@pytest.fixture(scope="module")
def player_file(tmp_path_factory):
    loss = model_loss("tinynet")
    ran = []
    with observe(lambda op, gy, grads: ran.append(op)):
        loss.backward(retain_graph=True)
    path = tmp_path_factory.mktemp("player") / "tinynet.html"
    animate(loss).save(path)
    return path, len(ran)


def test_the_player_steps_through_every_op_and_ends_complete(browser, player_file):
    from selenium.webdriver.common.keys import Keys

    path, ops_run = player_file
    open_page(browser, path)
    assert browser.execute_script("return window.graphkitPlayer.frames") == ops_run
    slider = browser.find_element("id", "slider")
    assert int(slider.get_attribute("max")) + 1 == ops_run
    counter = browser.find_element("id", "counter")
    assert counter.text == f"step 1 of {ops_run}"
    body = browser.find_element("tag name", "body")
    for step in range(2, ops_run + 1):
        body.send_keys(Keys.ARROW_RIGHT)
        assert counter.text == f"step {step} of {ops_run}"
    body.send_keys(Keys.ARROW_RIGHT)  # past the end: stays on the last frame
    assert counter.text == f"step {ops_run} of {ops_run}"
    ops = css(browser, "g.node.kind-op")
    assert len(ops) == ops_run
    assert all("done" in g.get_attribute("class") for g in ops)
    parameters = css(browser, "g.node.kind-parameter")
    assert parameters and all("done" in g.get_attribute("class") for g in parameters)
    body.send_keys(Keys.ARROW_LEFT)
    assert counter.text == f"step {ops_run - 1} of {ops_run}"
    assert "backward of" in browser.find_element("id", "heading").text
    assert "norm" in browser.find_element("id", "text").text
    assert_not_blank(browser)
    assert console_errors(browser) == []


def test_the_player_plays_and_pauses(browser, player_file):
    path, _ = player_file
    open_page(browser, path)
    browser.find_element("id", "play").click()
    wait_until(lambda: browser.execute_script("return window.graphkitPlayer.current()") >= 1)
    browser.find_element("id", "play").click()  # pause
    paused_at = browser.execute_script("return window.graphkitPlayer.current()")
    time.sleep(1.5)
    assert browser.execute_script("return window.graphkitPlayer.current()") == paused_at
    assert browser.find_element("id", "play").text == "play"
    assert console_errors(browser) == []


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("page") / "mlp.html"
    to_html(model_loss("mlp"), path)
    return path


def node_titled(browser, title):
    (node,) = [
        g for g in css(browser, "g.node") if g.find_element("css selector", "text").text == title
    ]
    return node


def test_clicking_a_node_shows_its_statistics(browser, page_file):
    open_page(browser, page_file)
    node_titled(browser, "fc1.weight").click()
    details = browser.find_element("id", "details").text
    assert details.startswith("fc1.weight")
    for fact in ("(784, 100)", "float64", "min", "mean", "max", "norm", "gradient"):
        assert fact in details
    assert console_errors(browser) == []


def test_folding_a_module_call_hides_its_nodes(browser, page_file):
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(browser, page_file)
    (fc1,) = [
        g
        for g in css(browser, "g.cluster")
        if g.find_element("css selector", "text").text == "fc1 Linear"
    ]
    number = fc1.get_attribute("data-cluster")
    inside = [
        g for g in css(browser, "g.node") if number in g.get_attribute("data-clusters").split()
    ]
    assert len(inside) == 4 and all(g.is_displayed() for g in inside)
    rect = fc1.find_element("css selector", "rect")
    corner = (-rect.size["width"] / 2 + 4, -rect.size["height"] / 2 + 4)  # its label's corner

    ActionChains(browser).move_to_element_with_offset(rect, *corner).click().perform()
    assert "folded" in fc1.get_attribute("class")
    assert not any(g.is_displayed() for g in inside)
    outside = [g for g in css(browser, "g.node") if g not in inside]
    assert all(g.is_displayed() for g in outside)
    assert_not_blank(browser)

    ActionChains(browser).move_to_element_with_offset(rect, *corner).click().perform()
    assert all(g.is_displayed() for g in inside)
    assert console_errors(browser) == []


def test_search_finds_a_node_by_name(browser, page_file):
    from selenium.webdriver.common.keys import Keys

    open_page(browser, page_file)
    search = browser.find_element("id", "search")
    search.send_keys("fc2.bias")
    assert browser.find_element("id", "found").text == "1 found"
    search.send_keys(Keys.ENTER)
    assert browser.find_element("id", "details").text.startswith("fc2.bias")
    assert "match" in node_titled(browser, "fc2.bias").get_attribute("class")
    assert console_errors(browser) == []


def test_wheel_zooms_and_dragging_pans(browser, page_file):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    open_page(browser, page_file)
    svg = browser.find_element("css selector", "svg.graph")

    def view_box():
        return [float(v) for v in svg.get_dom_attribute("viewBox").split()]

    before = view_box()
    ActionChains(browser).scroll_from_origin(ScrollOrigin.from_element(svg), 0, -300).perform()
    zoomed = view_box()
    assert zoomed[2] < before[2]  # zoomed in: a narrower view
    ActionChains(browser).click_and_hold(svg).move_by_offset(80, 40).release().perform()
    panned = view_box()
    assert panned[0] < zoomed[0] and panned[1] < zoomed[1] and panned[2] == zoomed[2]
    browser.find_element("id", "fit").click()
    assert view_box() == before
    assert console_errors(browser) == []
